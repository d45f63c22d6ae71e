package dashboard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// The timeline's drawing: an SVG laid out here, in Go, so that the page
// needs no script to draw it. x is simulated time across the plot; each
// row is the clock, a subscription, the invoices of no subscription, or
// the events.

// Geometry of the SVG, in its user units (it scales to the page's width).
const (
	svgWidth  = 1200.0
	plotLeft  = 200.0
	plotRight = 1185.0
	axisY     = 26.0 // where rows begin, under the axis labels
	clockRowH = 36.0
	subRowH   = 78.0
	eventRowH = 44.0
)

// drawing is the laid-out timeline.
type drawing struct {
	Height     float64
	Ticks      []tick
	Now        float64
	Target     float64 // the target of an advance under way; 0 for none
	ClockY     float64
	Moves      []moveBar
	Rows       []rowDrawing
	EventsY    float64
	Events     []eventTick
	PlotLeft   float64
	PlotRight  float64
	PlotWidth  float64
	MoreSubs   int
	ClockID    string
	NowLabel   string
	Advancing  bool
	TargetText string
}

type tick struct {
	X     float64
	Label string
}

type moveBar struct {
	X, W    float64
	Outcome string
	Title   string
}

type rowDrawing struct {
	Y        float64
	Kind     string // subscription, or loose
	ID       string
	Label    string
	Sub      string // a second line: customer and status
	Customer string
	Periods  []bar
	Marks    []bar
	CancelX  float64
	Invoices []invoiceDot
	Attempts []attemptDot
	Retries  []retryDot
}

type bar struct {
	X, W  float64
	Kind  string
	Title string
	Odd   bool
}

type invoiceDot struct {
	X      float64
	ID     string
	Status string
	Label  string
	Title  string
}

type attemptDot struct {
	X      float64
	ID     string
	Kind   string // charge
	Status string
	Title  string
}

type retryDot struct {
	X       float64
	Invoice string
	Title   string
}

type eventTick struct {
	X     float64
	ID    string
	Type  string
	Color string
	Title string
}

// layout draws tl.
func layout(tl *timeline) *drawing {
	dr := &drawing{PlotLeft: plotLeft, PlotRight: plotRight, PlotWidth: plotRight - plotLeft, MoreSubs: tl.MoreSubs,
		ClockID: tl.Clock.ID}
	span := float64(tl.End - tl.Start)
	x := func(t int64) float64 {
		v := plotLeft + float64(t-tl.Start)/span*(plotRight-plotLeft)
		return min(max(v, plotLeft), plotRight)
	}
	width := func(a, b int64) float64 { return max(x(b)-x(a), 1.5) }

	dr.Ticks = ticks(tl.Start, tl.End, x)
	dr.Now, dr.NowLabel = x(tl.Clock.FrozenTime), "now "+stamp(tl.Clock.FrozenTime)
	if tl.Clock.Status == billing.ClockAdvancing {
		dr.Advancing, dr.Target = true, x(tl.Clock.TargetTime)
		dr.TargetText = "advancing to " + stamp(tl.Clock.TargetTime)
	}

	y := axisY
	dr.ClockY = y
	for _, m := range tl.Moves {
		lo, hi := min(m.From, m.To), max(m.From, m.To)
		title := fmt.Sprintf("%s → %s: %s", stamp(m.From), stamp(m.To), m.Outcome)
		if m.To < m.From {
			title += " (restarted)"
		}
		if m.Tasks > 0 {
			title += fmt.Sprintf(", %d tasks", m.Tasks)
		}
		dr.Moves = append(dr.Moves, moveBar{X: x(lo), W: width(lo, hi), Outcome: m.Outcome, Title: title})
	}
	y += clockRowH

	rows := make([]subRow, 0, len(tl.Subs)+1)
	rows = append(rows, tl.Subs...)
	if len(tl.Loose.Invoices)+len(tl.Loose.Attempts) > 0 {
		rows = append(rows, tl.Loose)
	}
	for _, r := range rows {
		rd := rowDrawing{Y: y, Kind: "subscription", ID: r.ID, Label: clip(r.ID, 25), Customer: r.Customer,
			Sub: clip(r.Customer, 18) + " · " + strings.ReplaceAll(r.Status, "_", " ")}
		if r.ID == "" {
			rd.Kind, rd.Label, rd.Sub = "loose", "other invoices", "no subscription"
		}
		for i, p := range r.Periods {
			rd.Periods = append(rd.Periods, bar{X: x(p.Start), W: width(p.Start, p.End), Kind: p.Kind, Odd: i%2 == 1,
				Title: fmt.Sprintf("period %s → %s", stamp(p.Start), stamp(p.End))})
		}
		for _, p := range r.Stretches {
			rd.Marks = append(rd.Marks, bar{X: x(p.Start), W: width(p.Start, p.End), Kind: p.Kind,
				Title: fmt.Sprintf("%s %s → %s", strings.ReplaceAll(p.Kind, "_", " "), stamp(p.Start), stamp(p.End))})
		}
		if r.CancelAt > 0 {
			rd.CancelX = x(r.CancelAt)
		}
		for _, inv := range r.Invoices {
			amount := money(inv.Amount, inv.Currency)
			title := fmt.Sprintf("invoice %s %s: %s, %s", inv.ID, inv.Number, inv.Status, amount)
			if inv.Due > 0 && inv.Status == string(billing.InvoiceOpen) {
				title += ", " + money(inv.Due, inv.Currency) + " due"
			}
			title += " · " + stamp(inv.At)
			rd.Invoices = append(rd.Invoices, invoiceDot{X: x(inv.At), ID: inv.ID, Status: inv.Status, Label: amount, Title: title})
			if inv.NextAttempt > 0 {
				rd.Retries = append(rd.Retries, retryDot{X: x(inv.NextAttempt), Invoice: inv.ID,
					Title: fmt.Sprintf("next payment retry of %s · %s", inv.ID, stamp(inv.NextAttempt))})
			}
		}
		for _, a := range r.Attempts {
			what := "payment attempt"
			if a.N > 1 {
				what = fmt.Sprintf("retry %d", a.N-1)
			}
			title := fmt.Sprintf("%s %s: %s, %s", what, a.ID, a.Status, money(a.Amount, a.Currency))
			if a.Failure != "" {
				title += " (" + a.Failure + ")"
			}
			if a.Invoice != "" {
				title += " for " + a.Invoice
			}
			title += " · " + stamp(a.At)
			rd.Attempts = append(rd.Attempts, attemptDot{X: x(a.At), ID: a.ID, Kind: clockwork.KindCharge, Status: a.Status, Title: title})
		}
		dr.Rows = append(dr.Rows, rd)
		y += subRowH
	}

	dr.EventsY = y
	for _, e := range tl.Events {
		if e.At < tl.Start || e.At > tl.End {
			continue // stamped outside the clock's time (a clock's own events at Stripe are in wall time)
		}
		dr.Events = append(dr.Events, eventTick{X: x(e.At), ID: e.ID, Type: e.Type, Color: typeColor(e.Type),
			Title: e.Type + " " + e.ID + " · " + stamp(e.At)})
	}
	y += eventRowH
	dr.Height = y + 6
	return dr
}

// ticks are the axis's labelled times: the finest of hours, days, weeks,
// months, quarters and years that gives at most 10 of them.
func ticks(start, end int64, x func(int64) float64) []tick {
	type step struct {
		next   func(time.Time) time.Time
		first  func(time.Time) time.Time
		layout string
	}
	hour := func(n int) step {
		return step{func(t time.Time) time.Time { return t.Add(time.Duration(n) * time.Hour) },
			func(t time.Time) time.Time { return t.Truncate(time.Duration(n) * time.Hour) }, "Jan 2 15:04"}
	}
	day := func(n int) step {
		return step{func(t time.Time) time.Time { return t.AddDate(0, 0, n) },
			func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }, "Jan 2"}
	}
	month := func(n int) step {
		return step{func(t time.Time) time.Time { return t.AddDate(0, n, 0) },
			func(t time.Time) time.Time {
				m := (int(t.Month()) - 1) / n * n
				return time.Date(t.Year(), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC)
			}, "Jan 2006"}
	}
	year := func(n int) step {
		return step{func(t time.Time) time.Time { return t.AddDate(n, 0, 0) },
			func(t time.Time) time.Time { return time.Date(t.Year()/n*n, 1, 1, 0, 0, 0, 0, time.UTC) }, "2006"}
	}
	steps := []step{hour(1), hour(3), hour(6), hour(12), day(1), day(2), day(7), month(1), month(3), month(6), year(1), year(5), year(10)}
	from, to := time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
	for _, s := range steps {
		var out []tick
		for t := s.first(from); !t.After(to); t = s.next(t) {
			if t.Before(from) {
				continue
			}
			out = append(out, tick{X: x(t.Unix()), Label: t.Format(s.layout)})
			if len(out) > 10 {
				break
			}
		}
		if len(out) <= 10 {
			return out
		}
	}
	return nil
}

// clip shortens s to n characters, with an ellipsis, to fit a row's
// label; the full text is in the row's title.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// stamp is a simulated time as the page shows it, in UTC.
func stamp(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04") }

// zeroDecimal are the currencies with no minor unit that billclock's
// dialects take.
var zeroDecimal = map[string]bool{"jpy": true, "krw": true, "vnd": true, "clp": true, "isk": true, "ugx": true}

// money formats an amount in the smallest unit of currency.
func money(amount int64, currency string) string {
	cur := strings.ToUpper(currency)
	if zeroDecimal[strings.ToLower(currency)] {
		return strconv.FormatInt(amount, 10) + " " + cur
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	s := fmt.Sprintf("%s%d.%02d", sign, amount/100, amount%100)
	switch cur {
	case "USD":
		return "$" + s
	case "EUR":
		return "€" + s
	case "GBP":
		return "£" + s
	}
	return s + " " + cur
}

// typeColor gives the events of one family (the type's first word, such
// as invoice in invoice.paid or invoice_generated) one colour.
func typeColor(typ string) string {
	family := typ
	if i := strings.IndexAny(typ, "._"); i > 0 {
		family = typ[:i]
	}
	h := fnv.New32a()
	h.Write([]byte(family))
	return fmt.Sprintf("hsl(%d, 60%%, 42%%)", h.Sum32()%360)
}
