package clockwork

// A dialect whose events show objects as an operation left them, not as
// each step of it went (Chargebee's event content: the subscription, its
// invoice and the payment as they stand once the request or the renewal is
// done), holds the engine's events back in its Recorder (Render answers
// ok=false) and records its own at the end of each operation with
// RecordEvent: at the end of each request, and, as a TaskObserver, after
// each task an advance applies.

// Recorder is the renderer of the events recorded through this ledger,
// made by the dialect's NewRecorder on first use: a dialect that holds
// events back reaches what it holds through it.
func (l *Ledger) Recorder() Recorder {
	if l.rec == nil {
		l.rec = l.d.NewRecorder(l)
	}
	return l.rec
}

// RecordEvent stores an event the dialect rendered itself and queues it
// for every endpoint of the account that wants its type, as Record does
// for the engine's events.
func (l *Ledger) RecordEvent(e *Event) error {
	pending, err := l.queueDeliveries(e.ID, e.Type, "")
	if err != nil {
		return err
	}
	raw, err := e.Encode(pending)
	if err != nil {
		return err
	}
	return l.StoreEvent(e.ID, e.Type, e.Created, raw)
}
