package commet

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
)

// APIPrefix is where Commet's API is served, as its SDK calls it.
const APIPrefix = "/api/v1"

// Routes registers every route of Commet's API that billclock serves,
// under /api/v1, the checkout billclock serves for subscriptions, and
// Commet's 404 for every other /api/v1 path. Where the two API versions
// name a route differently (DELETE /seats and POST /seats/remove,
// /features/manage and /features, /plans/manage and /plans), both names
// work under both versions; the answers take the request's version.
func (s *Surface) Routes(r *mux.Router) {
	v1 := r.PathPrefix(APIPrefix).Subrouter()

	v1.HandleFunc("/test-clock", s.read(s.getClock)).Methods(http.MethodGet)
	v1.HandleFunc("/test-clock", s.write(s.advanceClock)).Methods(http.MethodPost)
	v1.HandleFunc("/test-clock/process-billing", s.write(s.processBilling)).Methods(http.MethodPost)

	v1.HandleFunc("/customers", s.write(s.createCustomer)).Methods(http.MethodPost)
	v1.HandleFunc("/customers", s.read(s.listCustomers)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{id}", s.read(s.retrieveCustomer)).Methods(http.MethodGet)

	v1.HandleFunc("/features", s.write(s.createFeature)).Methods(http.MethodPost)
	v1.HandleFunc("/features/manage", s.write(s.createFeature)).Methods(http.MethodPost)
	v1.HandleFunc("/features", s.read(s.listFeatures)).Methods(http.MethodGet)
	v1.HandleFunc("/features/{code}", s.read(s.retrieveFeature)).Methods(http.MethodGet)

	v1.HandleFunc("/plans", s.write(s.createPlan)).Methods(http.MethodPost)
	v1.HandleFunc("/plans/manage", s.write(s.createPlan)).Methods(http.MethodPost)
	v1.HandleFunc("/plans", s.read(s.listPlans)).Methods(http.MethodGet)
	v1.HandleFunc("/plans/{id}", s.read(s.retrievePlan)).Methods(http.MethodGet)
	v1.HandleFunc("/plans/{id}/prices", s.write(s.addPlanPrice)).Methods(http.MethodPost)
	v1.HandleFunc("/plans/{id}/features", s.write(s.addPlanFeature)).Methods(http.MethodPost)

	v1.HandleFunc("/subscriptions", s.write(s.createSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions", s.read(s.listSubscriptions)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/active", s.read(s.activeSubscription)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/{id}", s.read(s.getSubscription)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/{id}/cancel", s.write(s.cancelSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions/{id}/uncancel", s.write(s.uncancelSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions/{id}/reactivate", s.write(s.reactivateSubscription)).Methods(http.MethodPost)

	v1.HandleFunc("/seats", s.write(s.addSeats)).Methods(http.MethodPost)
	v1.HandleFunc("/seats", s.write(s.setSeats)).Methods(http.MethodPut)
	v1.HandleFunc("/seats", s.write(s.removeSeats)).Methods(http.MethodDelete)
	v1.HandleFunc("/seats/remove", s.write(s.removeSeats)).Methods(http.MethodPost)
	v1.HandleFunc("/seats/bulk", s.write(s.bulkSetSeats)).Methods(http.MethodPut)
	v1.HandleFunc("/seats/balance", s.read(s.seatBalance)).Methods(http.MethodGet)
	v1.HandleFunc("/seats/balances", s.read(s.seatBalances)).Methods(http.MethodGet)

	v1.HandleFunc("/invoices", s.read(s.listInvoices)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}", s.read(s.retrieveInvoice)).Methods(http.MethodGet)

	v1.HandleFunc("/webhooks", s.write(s.createWebhook)).Methods(http.MethodPost)
	v1.HandleFunc("/webhooks", s.read(s.listWebhooks)).Methods(http.MethodGet)
	v1.HandleFunc("/webhooks/{id}", s.read(s.getWebhook)).Methods(http.MethodGet)
	v1.HandleFunc("/webhooks/{id}", s.write(s.updateWebhook)).Methods(http.MethodPut)
	v1.HandleFunc("/webhooks/{id}", s.write(s.deleteWebhook)).Methods(http.MethodDelete)
	v1.HandleFunc("/webhooks/{id}/test", s.testWebhook).Methods(http.MethodPost)

	v1.PathPrefix("/").HandlerFunc(s.notFoundRoute)
	v1.NotFoundHandler = http.HandlerFunc(s.notFoundRoute)
	v1.MethodNotAllowedHandler = http.HandlerFunc(s.notFoundRoute)

	s.checkoutRoutes(r)
}

// Control serves the runtime's control routes for Commet keys, in
// Commet's envelope. The organization's clock is named org_test_clock in
// the clock routes.
func (s *Surface) Control(route clockwork.ControlRoute) http.Handler {
	switch route {
	case clockwork.GetSettings:
		return s.read(s.getSettings)
	case clockwork.UpdateSettings:
		return s.write(s.updateSettings)
	case clockwork.WebhookAttempts:
		return s.read(s.listWebhookAttempts)
	case clockwork.ClockProgress:
		return s.read(s.clockProgress)
	case clockwork.FailNextAdvance:
		return s.write(s.failNextAdvance)
	}
	return http.HandlerFunc(s.notFoundRoute)
}
