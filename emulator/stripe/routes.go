package stripe

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
)

// Routes registers every route of Stripe's API that billclock serves, and
// Stripe's answer for every other /v1 path. The control routes are the
// runtime's (see Control).
func (s *Surface) Routes(r *mux.Router) {
	v1 := r.PathPrefix("/v1").Subrouter()
	// Every request, once answered, to the `stripe logs tail` sessions of
	// its key (see requestlogs.go).
	v1.Use(s.tailRequests)

	// Stripe routes billclock does not emulate yet, first so that
	// /v1/invoices/upcoming is not taken for the invoice "upcoming".
	for _, path := range []string{
		"/invoices/upcoming", "/invoices/upcoming/lines",
	} {
		v1.HandleFunc(path, s.unrecognized)
	}
	// Likewise, create_preview is never an invoice's id.
	v1.HandleFunc("/invoices/create_preview", s.read(s.createPreview)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/create_preview", s.unrecognized)

	// Search, before the retrieves of each resource, so that
	// /v1/customers/search is not taken for the customer "search".
	for _, r := range searchResources {
		v1.HandleFunc("/"+r.name+"/search", s.read(s.search(r))).Methods(http.MethodGet)
		v1.HandleFunc("/"+r.name+"/search", s.unrecognized)
	}

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

	v1.HandleFunc("/customers/{customer}/payment_methods", s.read(s.listCustomerPaymentMethods)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/payment_methods/{id}", s.read(s.retrieveCustomerPaymentMethod)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/sources", s.read(s.listCustomerSources)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/sources", s.write(s.createCustomerSource)).Methods(http.MethodPost)
	v1.HandleFunc("/customers/{customer}/sources/{id}", s.read(s.retrieveCustomerSource)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/sources/{id}", s.write(s.deleteCustomerSource)).Methods(http.MethodDelete)

	v1.HandleFunc("/payment_methods", s.write(s.createPaymentMethod)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_methods", s.read(s.listPaymentMethods)).Methods(http.MethodGet)
	v1.HandleFunc("/payment_methods/{id}", s.retrievePaymentMethodRoute()).Methods(http.MethodGet)
	v1.HandleFunc("/payment_methods/{id}", s.write(s.updatePaymentMethod)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_methods/{id}/attach", s.write(s.attachPaymentMethod)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_methods/{id}/detach", s.write(s.detachPaymentMethod)).Methods(http.MethodPost)

	v1.HandleFunc("/payment_intents", s.write(s.createPaymentIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_intents", s.read(s.listPaymentIntents)).Methods(http.MethodGet)
	v1.HandleFunc("/payment_intents/{id}", s.read(s.retrievePaymentIntent)).Methods(http.MethodGet)
	v1.HandleFunc("/payment_intents/{id}", s.write(s.updatePaymentIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_intents/{id}/confirm", s.write(s.confirmPaymentIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_intents/{id}/capture", s.write(s.capturePaymentIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/payment_intents/{id}/cancel", s.write(s.cancelPaymentIntent)).Methods(http.MethodPost)

	v1.HandleFunc("/charges", s.read(s.listCharges)).Methods(http.MethodGet)
	v1.HandleFunc("/charges/{id}", s.read(s.retrieveCharge)).Methods(http.MethodGet)
	v1.HandleFunc("/charges/{charge}/refunds", s.read(s.listChargeRefunds)).Methods(http.MethodGet)
	v1.HandleFunc("/charges/{charge}/refunds/{id}", s.read(s.retrieveChargeRefund)).Methods(http.MethodGet)

	v1.HandleFunc("/setup_intents", s.write(s.createSetupIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/setup_intents", s.read(s.listSetupIntents)).Methods(http.MethodGet)
	v1.HandleFunc("/setup_intents/{id}", s.read(s.retrieveSetupIntent)).Methods(http.MethodGet)
	v1.HandleFunc("/setup_intents/{id}", s.write(s.updateSetupIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/setup_intents/{id}/confirm", s.write(s.confirmSetupIntent)).Methods(http.MethodPost)
	v1.HandleFunc("/setup_intents/{id}/cancel", s.write(s.cancelSetupIntent)).Methods(http.MethodPost)

	v1.HandleFunc("/refunds", s.write(s.createRefund)).Methods(http.MethodPost)
	v1.HandleFunc("/refunds", s.read(s.listRefunds)).Methods(http.MethodGet)
	v1.HandleFunc("/refunds/{id}", s.read(s.retrieveRefund)).Methods(http.MethodGet)
	v1.HandleFunc("/refunds/{id}", s.write(s.updateRefund)).Methods(http.MethodPost)
	v1.HandleFunc("/refunds/{id}/cancel", s.write(s.cancelRefund)).Methods(http.MethodPost)

	v1.HandleFunc("/account", s.read(s.retrieveAccount)).Methods(http.MethodGet)

	v1.HandleFunc("/products", s.write(s.createProduct)).Methods(http.MethodPost)
	v1.HandleFunc("/products", s.read(s.listProducts)).Methods(http.MethodGet)
	v1.HandleFunc("/products/{id}", s.read(s.retrieveProduct)).Methods(http.MethodGet)
	v1.HandleFunc("/products/{id}", s.write(s.updateProduct)).Methods(http.MethodPost)
	v1.HandleFunc("/products/{id}", s.write(s.deleteProduct)).Methods(http.MethodDelete)

	v1.HandleFunc("/prices", s.write(s.createPrice)).Methods(http.MethodPost)
	v1.HandleFunc("/prices", s.read(s.listPrices)).Methods(http.MethodGet)
	v1.HandleFunc("/prices/{id}", s.read(s.retrievePrice)).Methods(http.MethodGet)
	v1.HandleFunc("/prices/{id}", s.write(s.updatePrice)).Methods(http.MethodPost)

	v1.HandleFunc("/plans", s.write(s.createPlan)).Methods(http.MethodPost)
	v1.HandleFunc("/plans", s.read(s.listPlans)).Methods(http.MethodGet)
	v1.HandleFunc("/plans/{id}", s.read(s.retrievePlan)).Methods(http.MethodGet)
	v1.HandleFunc("/plans/{id}", s.write(s.updatePlan)).Methods(http.MethodPost)
	v1.HandleFunc("/plans/{id}", s.write(s.deletePlan)).Methods(http.MethodDelete)

	v1.HandleFunc("/subscriptions", s.write(s.createSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions", s.read(s.listSubscriptions)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/{id}", s.read(s.retrieveSubscription)).Methods(http.MethodGet)
	v1.HandleFunc("/subscriptions/{id}", s.write(s.updateSubscription)).Methods(http.MethodPost)
	v1.HandleFunc("/subscriptions/{id}", s.write(s.cancelSubscription)).Methods(http.MethodDelete)
	v1.HandleFunc("/subscriptions/{id}/resume", s.write(s.resumeSubscription)).Methods(http.MethodPost)

	v1.HandleFunc("/subscription_schedules", s.write(s.createSchedule)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_schedules", s.read(s.listSchedules)).Methods(http.MethodGet)
	v1.HandleFunc("/subscription_schedules/{id}", s.read(s.retrieveSchedule)).Methods(http.MethodGet)
	v1.HandleFunc("/subscription_schedules/{id}", s.write(s.updateSchedule)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_schedules/{id}/cancel", s.write(s.cancelSchedule)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_schedules/{id}/release", s.write(s.releaseSchedule)).Methods(http.MethodPost)

	v1.HandleFunc("/subscription_items", s.write(s.createSubscriptionItem)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_items", s.read(s.listSubscriptionItems)).Methods(http.MethodGet)
	v1.HandleFunc("/subscription_items/{id}", s.read(s.retrieveSubscriptionItem)).Methods(http.MethodGet)
	v1.HandleFunc("/subscription_items/{id}", s.write(s.updateSubscriptionItem)).Methods(http.MethodPost)
	v1.HandleFunc("/subscription_items/{id}", s.write(s.deleteSubscriptionItem)).Methods(http.MethodDelete)

	v1.HandleFunc("/invoices", s.write(s.createInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices", s.read(s.listInvoices)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}", s.read(s.retrieveInvoice)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}", s.write(s.updateInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}", s.write(s.deleteInvoice)).Methods(http.MethodDelete)
	v1.HandleFunc("/invoices/{id}/lines", s.read(s.listInvoiceLines)).Methods(http.MethodGet)
	v1.HandleFunc("/invoices/{id}/pay", s.write(s.payInvoice)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/finalize", s.write(s.finalizeInvoice())).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/void", s.write(s.voidInvoice())).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/send", s.write(s.sendInvoice())).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/mark_uncollectible", s.write(s.markUncollectible())).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/add_lines", s.write(s.addLines)).Methods(http.MethodPost)
	v1.HandleFunc("/invoices/{id}/remove_lines", s.write(s.removeLines)).Methods(http.MethodPost)

	v1.HandleFunc("/invoice_payments", s.read(s.listInvoicePayments)).Methods(http.MethodGet)
	v1.HandleFunc("/invoice_payments/{id}", s.read(s.retrieveInvoicePayment)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/balance_transactions", s.read(s.listBalanceTransactions)).Methods(http.MethodGet)
	v1.HandleFunc("/customers/{customer}/balance_transactions/{id}", s.read(s.retrieveBalanceTransaction)).Methods(http.MethodGet)

	v1.HandleFunc("/invoiceitems", s.write(s.createInvoiceItem)).Methods(http.MethodPost)
	v1.HandleFunc("/invoiceitems", s.read(s.listInvoiceItems)).Methods(http.MethodGet)
	v1.HandleFunc("/invoiceitems/{id}", s.read(s.retrieveInvoiceItem)).Methods(http.MethodGet)
	v1.HandleFunc("/invoiceitems/{id}", s.write(s.updateInvoiceItem)).Methods(http.MethodPost)
	v1.HandleFunc("/invoiceitems/{id}", s.write(s.deleteInvoiceItem)).Methods(http.MethodDelete)

	v1.HandleFunc("/coupons", s.write(s.createCoupon)).Methods(http.MethodPost)
	v1.HandleFunc("/coupons", s.read(s.listCoupons)).Methods(http.MethodGet)
	v1.HandleFunc("/coupons/{id}", s.read(s.retrieveCoupon)).Methods(http.MethodGet)
	v1.HandleFunc("/coupons/{id}", s.write(s.updateCoupon)).Methods(http.MethodPost)
	v1.HandleFunc("/coupons/{id}", s.write(s.deleteCoupon)).Methods(http.MethodDelete)
	v1.HandleFunc("/promotion_codes", s.write(s.createPromotionCode)).Methods(http.MethodPost)
	v1.HandleFunc("/promotion_codes", s.read(s.listPromotionCodes)).Methods(http.MethodGet)
	v1.HandleFunc("/promotion_codes/{id}", s.read(s.retrievePromotionCode)).Methods(http.MethodGet)
	v1.HandleFunc("/promotion_codes/{id}", s.write(s.updatePromotionCode)).Methods(http.MethodPost)
	v1.HandleFunc("/customers/{customer}/discount", s.write(s.deleteCustomerDiscount)).Methods(http.MethodDelete)
	v1.HandleFunc("/subscriptions/{id}/discount", s.write(s.deleteSubscriptionDiscount)).Methods(http.MethodDelete)
	v1.HandleFunc("/tax_rates", s.write(s.createTaxRate)).Methods(http.MethodPost)
	v1.HandleFunc("/tax_rates", s.read(s.listTaxRates)).Methods(http.MethodGet)
	v1.HandleFunc("/tax_rates/{id}", s.read(s.retrieveTaxRate)).Methods(http.MethodGet)
	v1.HandleFunc("/tax_rates/{id}", s.write(s.updateTaxRate)).Methods(http.MethodPost)

	v1.HandleFunc("/webhook_endpoints", s.write(s.createWebhookEndpoint)).Methods(http.MethodPost)
	v1.HandleFunc("/webhook_endpoints", s.read(s.listWebhookEndpoints)).Methods(http.MethodGet)
	v1.HandleFunc("/webhook_endpoints/{id}", s.read(s.retrieveWebhookEndpoint)).Methods(http.MethodGet)
	v1.HandleFunc("/webhook_endpoints/{id}", s.write(s.updateWebhookEndpoint)).Methods(http.MethodPost)
	v1.HandleFunc("/webhook_endpoints/{id}", s.write(s.deleteWebhookEndpoint)).Methods(http.MethodDelete)
	v1.HandleFunc("/events/{id}/retry", s.write(s.retryEvent)).Methods(http.MethodPost)

	v1.HandleFunc("/checkout/sessions", s.write(s.createCheckoutSession)).Methods(http.MethodPost)
	v1.HandleFunc("/checkout/sessions", s.read(s.listCheckoutSessions)).Methods(http.MethodGet)
	v1.HandleFunc("/checkout/sessions/{id}", s.read(s.retrieveCheckoutSession)).Methods(http.MethodGet)
	v1.HandleFunc("/checkout/sessions/{id}", s.write(s.updateCheckoutSession)).Methods(http.MethodPost)
	v1.HandleFunc("/checkout/sessions/{id}/expire", s.write(s.expireCheckoutSession)).Methods(http.MethodPost)
	v1.HandleFunc("/checkout/sessions/{id}/line_items", s.read(s.listCheckoutLineItems)).Methods(http.MethodGet)
	// The default portal configuration is saved the first time it is
	// read, so that its id and created time stay put: reads write.
	v1.HandleFunc("/billing_portal/configurations", s.write(s.createPortalConfig)).Methods(http.MethodPost)
	v1.HandleFunc("/billing_portal/configurations", s.write(s.listPortalConfigs)).Methods(http.MethodGet)
	v1.HandleFunc("/billing_portal/configurations/{id}", s.write(s.retrievePortalConfig)).Methods(http.MethodGet)
	v1.HandleFunc("/billing_portal/configurations/{id}", s.write(s.updatePortalConfig)).Methods(http.MethodPost)
	v1.HandleFunc("/billing_portal/sessions", s.write(s.createPortalSession)).Methods(http.MethodPost)
	// The Stripe CLI's `stripe listen` (see stripecli.go).
	v1.HandleFunc("/stripecli/sessions", s.createCLISession).Methods(http.MethodPost)
	v1.HandleFunc("/stripecli/websocket", s.cliWebsocket).Methods(http.MethodGet)

	v1.HandleFunc("/events", s.read(s.listEvents)).Methods(http.MethodGet)
	v1.HandleFunc("/events/{id}", s.read(s.retrieveEvent)).Methods(http.MethodGet)

	v1.PathPrefix("/").HandlerFunc(s.unrecognized)

	// The pages Stripe hosts (Checkout, the Billing Portal, hosted
	// invoices), and the control route that completes a Checkout Session
	// without a browser.
	s.pageRoutes(r)
	r.HandleFunc("/_billclock/checkout/sessions/{id}/complete", s.write(s.completeCheckoutRoute)).Methods(http.MethodPost)
}

// Control serves the runtime's control routes, outside Stripe's API, for
// Stripe keys (and for requests no dialect claims), in Stripe's envelope:
// every other path or method gets Stripe's "Unrecognized request URL" 404.
func (s *Surface) Control(route clockwork.ControlRoute) http.Handler {
	switch route {
	case clockwork.WebhookAttempts:
		return s.read(s.listWebhookAttempts)
	case clockwork.GetSettings:
		return s.read(s.getSettings)
	case clockwork.UpdateSettings:
		return s.write(s.updateSettings)
	case clockwork.FailNextAdvance:
		return s.write(s.failNextAdvance)
	case clockwork.ClockProgress:
		return s.read(s.clockProgress)
	}
	return http.HandlerFunc(s.unrecognized)
}
