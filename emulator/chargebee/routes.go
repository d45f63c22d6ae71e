package chargebee

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
)

// Routes registers every route of Chargebee's API that billclock serves,
// under /api/v2, Chargebee's answer for every other path there, and the
// dialect's own control route for webhook endpoints (Chargebee configures
// them in its site settings, which have no API). The runtime's control
// routes are served through Control.
func (s *Surface) Routes(r *mux.Router) {
	v2 := r.PathPrefix(APIPrefix).Subrouter()

	v2.HandleFunc("/time_machines/{name}", s.read(s.retrieveTimeMachine)).Methods(http.MethodGet)
	v2.HandleFunc("/time_machines/{name}/start_afresh", s.write(s.startAfresh)).Methods(http.MethodPost)
	v2.HandleFunc("/time_machines/{name}/travel_forward", s.write(s.travelForward)).Methods(http.MethodPost)

	v2.HandleFunc("/item_families", s.write(s.createItemFamily)).Methods(http.MethodPost)
	v2.HandleFunc("/item_families", s.read(s.listItemFamilies)).Methods(http.MethodGet)
	v2.HandleFunc("/item_families/{id}", s.read(s.retrieveItemFamily)).Methods(http.MethodGet)
	v2.HandleFunc("/items", s.write(s.createItem)).Methods(http.MethodPost)
	v2.HandleFunc("/items", s.read(s.listItems)).Methods(http.MethodGet)
	v2.HandleFunc("/items/{id}", s.read(s.retrieveItem)).Methods(http.MethodGet)
	v2.HandleFunc("/item_prices", s.write(s.createItemPrice)).Methods(http.MethodPost)
	v2.HandleFunc("/item_prices", s.read(s.listItemPrices)).Methods(http.MethodGet)
	v2.HandleFunc("/item_prices/{id}", s.read(s.retrieveItemPrice)).Methods(http.MethodGet)

	v2.HandleFunc("/customers", s.write(s.createCustomer)).Methods(http.MethodPost)
	v2.HandleFunc("/customers", s.read(s.listCustomers)).Methods(http.MethodGet)
	v2.HandleFunc("/customers/{id}", s.read(s.retrieveCustomer)).Methods(http.MethodGet)
	v2.HandleFunc("/customers/{id}", s.write(s.updateCustomer)).Methods(http.MethodPost)
	v2.HandleFunc("/customers/{id}/credit_card", s.write(s.updateCard)).Methods(http.MethodPost)
	v2.HandleFunc("/customers/{customer_id}/subscription_for_items", s.write(s.createSubscription)).Methods(http.MethodPost)

	v2.HandleFunc("/subscriptions", s.read(s.listSubscriptions)).Methods(http.MethodGet)
	v2.HandleFunc("/subscriptions/{id}", s.read(s.retrieveSubscription)).Methods(http.MethodGet)
	v2.HandleFunc("/subscriptions/{id}/update_for_items", s.write(s.updateForItems)).Methods(http.MethodPost)
	v2.HandleFunc("/subscriptions/{id}/cancel_for_items", s.write(s.cancelForItems)).Methods(http.MethodPost)

	v2.HandleFunc("/invoices", s.read(s.listInvoices)).Methods(http.MethodGet)
	v2.HandleFunc("/invoices/{id}", s.read(s.retrieveInvoice)).Methods(http.MethodGet)
	v2.HandleFunc("/invoices/{id}/collect_payment", s.write(s.collectPayment)).Methods(http.MethodPost)

	v2.HandleFunc("/events", s.read(s.listEvents)).Methods(http.MethodGet)
	v2.HandleFunc("/events/{id}", s.read(s.retrieveEvent)).Methods(http.MethodGet)

	v2.PathPrefix("/").HandlerFunc(s.unknownRoute)

	r.HandleFunc(WebhookEndpointsPath, s.write(s.createWebhookEndpoint)).Methods(http.MethodPost)
	r.HandleFunc(WebhookEndpointsPath, s.read(s.listWebhookEndpoints)).Methods(http.MethodGet)
	r.HandleFunc(WebhookEndpointsPath+"/{id}", s.write(s.deleteWebhookEndpoint)).Methods(http.MethodDelete)
}

// Control serves the runtime's control routes for Chargebee keys, in
// Chargebee's envelope. The clock of the time-machine routes is the
// site's one, delorean: /_billclock/test_clocks/delorean/fail_next_advance
// makes its next travel fail.
func (s *Surface) Control(route clockwork.ControlRoute) http.Handler {
	switch route {
	case clockwork.WebhookAttempts:
		return s.read(s.listWebhookAttempts)
	case clockwork.GetSettings:
		return s.read(s.getSettings)
	case clockwork.UpdateSettings:
		return s.write(s.updateSettings)
	case clockwork.FailNextAdvance:
		return s.write(s.failNextTravel)
	case clockwork.ClockProgress:
		return s.read(s.travelProgress)
	}
	return http.HandlerFunc(s.unknownRoute)
}
