# billclock in a container. The final image is FROM scratch: a static binary
# and nothing else, so it builds without pulling a base image.
#
#   CGO_ENABLED=0 go build -o billclock ./cmd/billclock
#   podman build -t billclock .        (or docker build)
#   podman run -p 127.0.0.1:12800:12800 billclock
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
