package stripe

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Routes registers every route of Stripe's API that billclock serves, and
// Stripe's answer for every other /v1 path.
func (s *Surface) Routes(r *mux.Router) {
	v1 := r.PathPrefix("/v1").Subrouter()

	v1.HandleFunc("/test_helpers/test_clocks", s.write(s.createClock)).Methods(http.MethodPost)
	v1.HandleFunc("/test_helpers/test_clocks", s.read(s.listClocks)).Methods(http.MethodGet)
	v1.HandleFunc("/test_helpers/test_clocks/{id}", s.read(s.retrieveClock)).Methods(http.MethodGet)
	v1.HandleFunc("/test_helpers/test_clocks/{id}", s.write(s.deleteClock)).Methods(http.MethodDelete)
	v1.HandleFunc("/test_helpers/test_clocks/{id}/advance", s.write(s.advanceClock)).Methods(http.MethodPost)

	v1.HandleFunc("/events", s.read(s.listEvents)).Methods(http.MethodGet)
	v1.HandleFunc("/events/{id}", s.read(s.retrieveEvent)).Methods(http.MethodGet)

	v1.PathPrefix("/").HandlerFunc(s.unrecognized)
}
