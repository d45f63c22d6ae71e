# billclock in a container. The final image is FROM scratch: a static binary
# and nothing else, so it builds without pulling a base image.
#
#   make build                          (CGO_ENABLED=0 go build -o billclock ./cmd/billclock)
#   docker build -t billclock .         (podman: podman build --format docker -t billclock .,
#                                        since podman's default format drops the HEALTHCHECK)
#   docker run -p 127.0.0.1:12800:12800 -v billclock-data:/data billclock
#
# The server listens on 0.0.0.0:12800 inside the container and keeps its
# database in /data (mount a volume there to keep state between runs).
FROM scratch
COPY billclock /billclock
ENV BILLCLOCK_ADDR=0.0.0.0:12800 BILLCLOCK_DB=/data/billclock.db
WORKDIR /data
EXPOSE 12800
HEALTHCHECK --interval=5s --timeout=3s CMD ["/billclock", "health", "--api-base", "http://127.0.0.1:12800"]
ENTRYPOINT ["/billclock"]
CMD ["serve"]
