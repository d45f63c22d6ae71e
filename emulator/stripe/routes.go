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

	v1.HandleFunc("/customers", s.write(s.createCustomer)).Methods(http.MethodPost)
	v1.HandleFunc("/customers", s.read(s.listCustomers)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{id}", s.read(s.retrieveCustomer)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{id}", s.write(s.updateCustomer)).Methods(http.MethodPost)
	v1.HandleFunc("/customers/{id}", s.write(s.deleteCustomer)).Methods(http.MethodDelete)

	v1.HandleFunc("/products", s.write(s.createProduct)).Methods(http.MethodPost)
	v1.HandleFunc("/products", s.read(s.listProducts)).Methods(http.MethodGet)
	v1.HandleFunc("/products/{id}", s.read(s.retrieveProduct)).Methods(http.MethodGet)
	v1.HandleFunc("/products/{id}", s.write(s.updateProduct)).Methods(http.MethodPost)
	v1.HandleFunc("/products/{id}", s.write(s.deleteProduct)).Methods(http.MethodDelete)

	v1.HandleFunc("/prices", s.write(s.createPrice)).Methods(http.MethodPost)
	v1.HandleFunc("/prices", s.read(s.listPrices)).Methods(http.MethodGet)
	v1.HandleFunc("/prices/{id}", s.read(s.retrievePrice)).Methods(http.MethodGet)
	v1.HandleFunc("/prices/{id}", s.write(s.updatePrice)).Methods(http.MethodPost)

	v1.HandleFunc("/subscriptions", s.write(s.createSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions", s.read(s.listSubscriptions)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/{id}", s.read(s.retrieveSubscription)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/{id}", s.write(s.updateSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions/{id}", s.write(s.cancelSubscription)).Methods(http.MethodDelete)

	v1.HandleFunc("/subscription_items", s.write(s.createSubscriptionItem)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_items", s.read(s.listSubscriptionItems)).Methods(http.MethodGet)
	v1.HandleFunc("/subscription_items/{id}", s.read(s.retrieveSubscriptionItem)).Methods(http.MethodGet)
	v1.HandleFunc("/subscription_items/{id}", s.write(s.updateSubscriptionItem)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_items/{id}", s.write(s.deleteSubscriptionItem)).Methods(http.MethodDelete)

	v1.HandleFunc("/invoices", s.read(s.listInvoices)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}", s.read(s.retrieveInvoice)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}/lines", s.read(s.listInvoiceLines)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}/pay", s.write(s.payInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/finalize", s.write(s.finalizeInvoice())).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/void", s.write(s.voidInvoice())).Methods(http.MethodPost)

	v1.HandleFunc("/invoice_payments", s.read(s.listInvoicePayments)).Methods(http.MethodGet)
	v1.HandleFunc("/invoice_payments/{id}", s.read(s.retrieveInvoicePayment)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/balance_transactions", s.read(s.listBalanceTransactions)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/balance_transactions/{id}", s.read(s.retrieveBalanceTransaction)).Methods(http.MethodGet)

	v1.HandleFunc("/invoiceitems", s.read(s.listInvoiceItems)).Methods(http.MethodGet)
	v1.HandleFunc("/invoiceitems/{id}", s.read(s.retrieveInvoiceItem)).Methods(http.MethodGet)

	v1.HandleFunc("/webhook_endpoints", s.write(s.createWebhookEndpoint)).Methods(http.MethodPost)
	v1.HandleFunc("/webhook_endpoints", s.read(s.listWebhookEndpoints)).Methods(http.MethodGet)
	v1.HandleFunc("/webhook_endpoints/{id}", s.read(s.retrieveWebhookEndpoint)).Methods(http.MethodGet)
	v1.HandleFunc("/webhook_endpoints/{id}", s.write(s.updateWebhookEndpoint)).Methods(http.MethodPost)
	v1.HandleFunc("/webhook_endpoints/{id}", s.write(s.deleteWebhookEndpoint)).Methods(http.MethodDelete)
	v1.HandleFunc("/events/{id}/retry", s.write(s.retryEvent)).Methods(http.MethodPost)

	v1.HandleFunc("/events", s.read(s.listEvents)).Methods(http.MethodGet)
	v1.HandleFunc("/events/{id}", s.read(s.retrieveEvent)).Methods(http.MethodGet)

	v1.PathPrefix("/").HandlerFunc(s.unrecognized)

	// Control routes, outside Stripe's API.
	r.HandleFunc("/_billclock/webhook_attempts", s.read(s.listWebhookAttempts)).Methods(http.MethodGet)
}
