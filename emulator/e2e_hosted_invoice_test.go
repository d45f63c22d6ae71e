package emulator_test

// Hosted invoice pages and invoice PDFs: finalized invoices carry both
// addresses, which work without an API key; a past-due invoice is paid on
// its page with a test card; the PDF is a well-formed PDF of the invoice.

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// pdfDoc is what readPDF finds in a PDF: the strings its pages show, in
// order, and its document information (Title, Author, ...).
type pdfDoc struct {
	Shown []string
	Info  map[string]string
}

// readPDF reads a PDF as a PDF reader starts to: the header, the trailer's
// startxref pointing at the cross-reference table, every in-use entry of
// the table at the object it names, every stream exactly as long as its
// /Length says; then the strings shown by Tj in the (uncompressed) content
// streams, decoded from WinAnsiEncoding, and the Info dictionary's strings.
func readPDF(t *testing.T, body []byte) pdfDoc {
	t.Helper()
	require.True(t, bytes.HasPrefix(body, []byte("%PDF-1.")), "header: %q", body[:min(len(body), 16)])
	m := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(body)
	require.NotNil(t, m, "no startxref ... %%%%EOF at the end")
	off, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	require.Less(t, off, len(body))
	require.True(t, bytes.HasPrefix(body[off:], []byte("xref")), "startxref %d does not point at the xref table", off)
	lines := strings.Split(string(body[off:]), "\n")
	head := strings.Fields(lines[1])
	require.Len(t, head, 2, "xref subsection header %q", lines[1])
	first, _ := strconv.Atoi(head[0])
	count, _ := strconv.Atoi(head[1])
	require.Greater(t, count, 3)
	objects := map[int][]byte{}
	for i := range count {
		f := strings.Fields(lines[2+i])
		require.Len(t, f, 3, "xref entry %q", lines[2+i])
		if f[2] != "n" {
			continue
		}
		at, err := strconv.Atoi(f[0])
		require.NoError(t, err)
		want := strconv.Itoa(first+i) + " 0 obj"
		require.True(t, bytes.HasPrefix(body[at:], []byte(want)), "xref entry %d at %d: %q", first+i, at, body[at:min(len(body), at+16)])
		end := bytes.Index(body[at:], []byte("endobj"))
		require.Positive(t, end, "object %d has no endobj", first+i)
		objects[first+i] = body[at : at+end]
	}
	trailer := string(body[off:])
	require.Contains(t, trailer, "trailer")

	doc := pdfDoc{Info: map[string]string{}}
	streamRe := regexp.MustCompile(`^\d+ 0 obj\s*<<\s*/Length (\d+)\s*>>\s*stream\n`)
	for n, obj := range objects {
		sm := streamRe.FindSubmatchIndex(obj)
		if sm == nil {
			continue
		}
		length, _ := strconv.Atoi(string(obj[sm[2]:sm[3]]))
		data := obj[sm[1]:]
		require.GreaterOrEqual(t, len(data), length, "object %d: stream shorter than its /Length", n)
		require.True(t, bytes.HasPrefix(bytes.TrimLeft(data[length:], "\r\n"), []byte("endstream")),
			"object %d: /Length %d does not end at endstream", n, length)
		for _, s := range pdfShown(t, data[:length]) {
			doc.Shown = append(doc.Shown, winAnsi(s))
		}
	}
	im := regexp.MustCompile(`/Info (\d+) 0 R`).FindStringSubmatch(trailer)
	require.NotNil(t, im, "the trailer names no /Info")
	info, _ := strconv.Atoi(im[1])
	obj := objects[info]
	for _, km := range regexp.MustCompile(`/(\w+) \(`).FindAllSubmatchIndex(obj, -1) {
		s, _ := pdfString(t, obj[km[1]-1:])
		if strings.HasPrefix(s, "\xfe\xff") {
			u := make([]uint16, 0, len(s)/2)
			for i := 2; i+1 < len(s); i += 2 {
				u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
			}
			s = string(utf16.Decode(u))
		}
		doc.Info[string(obj[km[2]:km[3]])] = s
	}
	return doc
}

// getPDF fetches a PDF without a key and reads it.
func getPDF(t *testing.T, u string) pdfDoc {
	t.Helper()
	resp, err := pageClient().Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	return readPDF(t, buf.Bytes())
}

// pdfShown returns the literal strings shown with Tj in a content stream.
func pdfShown(t *testing.T, content []byte) []string {
	t.Helper()
	var out []string
	for i := 0; i < len(content); i++ {
		if content[i] != '(' {
			continue
		}
		s, n := pdfString(t, content[i:])
		i += n - 1
		if bytes.HasPrefix(bytes.TrimLeft(content[i+1:], " "), []byte("Tj")) {
			out = append(out, s)
		}
	}
	return out
}

// pdfString reads the literal string that b starts with: balanced
// parentheses and backslash escapes. It returns the string's bytes and how
// many bytes of b it took.
func pdfString(t *testing.T, b []byte) (string, int) {
	t.Helper()
	require.Equal(t, byte('('), b[0])
	var out []byte
	depth := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '(':
			depth++
			if depth == 1 {
				continue
			}
		case ')':
			depth--
			if depth == 0 {
				return string(out), i + 1
			}
		case '\\':
			i++
			require.Less(t, i, len(b), "a string ends in a backslash")
			switch e := b[i]; e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := 0
				for k := 0; k < 3 && i < len(b) && b[i] >= '0' && b[i] <= '7'; k++ {
					v = v*8 + int(b[i]-'0')
					i++
				}
				i--
				c = byte(v)
			default:
				c = e
			}
		}
		out = append(out, c)
	}
	t.Fatalf("unterminated string %q", b[:min(len(b), 40)])
	return "", 0
}

// winAnsi decodes WinAnsiEncoding, the standard fonts' encoding: Latin-1
// but for the 0x80-0x9F row, of which the invoice uses the en dash.
func winAnsi(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0x96:
			sb.WriteRune('–')
		case c == 0x97:
			sb.WriteRune('—')
		case c == 0x80:
			sb.WriteRune('€')
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

func TestHostedInvoicePageAndPDF(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	clock := b.clockAt(frozen0)
	price := b.price("Team seat", 1250, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	_, err := b.sc.V1Customers.Update(t.Context(), cust.ID, &stripe.CustomerUpdateParams{Name: stripe.String("Jenny Rosen")})
	require.NoError(t, err)
	sub := b.subscribe(cust.ID, price.ID, 4, nil)
	inv := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	require.NotEmpty(t, inv.HostedInvoiceURL)
	require.NotEmpty(t, inv.InvoicePDF)
	acct, err := b.sc.V1Accounts.Retrieve(t.Context(), nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(inv.HostedInvoiceURL, b.srv.URL()+"/i/"+acct.ID+"/test_"), inv.HostedInvoiceURL)
	assert.True(t, strings.HasSuffix(inv.InvoicePDF, "/pdf"), inv.InvoicePDF)
	assert.Equal(t, inv.HostedInvoiceURL, b.invoice(inv.ID).HostedInvoiceURL, "the address never changes")

	// The events carry them too.
	evs := b.events(&stripe.EventListParams{Type: stripe.String("invoice.finalized")})
	require.Len(t, evs, 1)
	assert.Equal(t, inv.HostedInvoiceURL, evs[0].Data.Object["hosted_invoice_url"])

	// The page, without a key.
	pg := getPage(t, inv.HostedInvoiceURL)
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	for _, want := range []string{inv.Number, "paid", "$50.00", "Jenny Rosen", "4 × Team seat (at $12.50 / month)"} {
		assert.Contains(t, pg.Body, want)
	}
	assert.NotContains(t, pg.Body, `id="pay"`, "a paid invoice has nothing to pay")

	// The PDF, without a key.
	doc := getPDF(t, inv.InvoicePDF)
	for _, want := range []string{"Invoice", inv.Number, "paid", "$50.00 paid", "Jenny Rosen, jenny@example.com",
		"4 × Team seat (at $12.50 / month)", "23 Nov 2024 – 23 Dec 2024", "$50.00", "Amount remaining", "$0.00"} {
		assert.Contains(t, doc.Shown, want)
	}
	assert.Equal(t, "Invoice "+inv.Number, doc.Info["Title"])
	assert.Equal(t, "billclock", doc.Info["Creator"])

	// A renewal is a draft for an hour: no addresses yet, as at Stripe.
	b.advance(clock.ID, frozen0+30*86400+hour/2)
	draft := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceStatusDraft, draft.Status)
	assert.Empty(t, draft.HostedInvoiceURL)
	assert.Empty(t, draft.InvoicePDF)

	// The token is required: without it, or changed, there is no page.
	u, err := url.Parse(inv.HostedInvoiceURL)
	require.NoError(t, err)
	tok := u.Path[strings.LastIndex(u.Path, "/")+1:]
	for _, bad := range []string{
		strings.TrimSuffix(inv.HostedInvoiceURL, tok) + "test_",
		strings.TrimSuffix(inv.HostedInvoiceURL, tok) + tok[:len(tok)-2],
		strings.Replace(inv.HostedInvoiceURL, acct.ID, "acct_1Nv0FGQ9RKHgCVdK", 1),
		strings.Replace(inv.InvoicePDF, tok, tok[:len(tok)-4]+"AAAA", 1),
	} {
		pg := getPage(t, bad)
		assert.Equal(t, http.StatusNotFound, pg.Status, bad)
		assert.NotContains(t, pg.Body, inv.Number, bad)
	}
}

// The dunning issue's scenario: a renewal declined by
// pm_card_chargeCustomerFail leaves the invoice open and the subscription
// past_due; the customer pays it on the hosted page with 4242.
func TestHostedInvoicePaysAPastDueInvoice(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, _, sub := b.failingRenewal("pm_card_chargeCustomerFail")
	b.advance(clock.ID, dunAttempt)
	inv := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceStatusOpen, inv.Status)
	require.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
	require.NotEmpty(t, inv.HostedInvoiceURL)

	pg := getPage(t, inv.HostedInvoiceURL)
	require.Equal(t, http.StatusOK, pg.Status)
	assert.Contains(t, pg.Body, "Pay $12.00")
	assert.Contains(t, pg.Body, "open")
	doc := getPDF(t, inv.InvoicePDF)
	for _, want := range []string{"open", "$12.00 due", "Next payment attempt"} {
		assert.Contains(t, doc.Shown, want)
	}

	// A declined card: the attempt is kept, as POST /v1/invoices/{id}/pay
	// keeps it, and the page says why.
	before := len(b.events(nil))
	pg = postPage(t, inv.HostedInvoiceURL, url.Values{"card": {"4000 0000 0000 9995"}, "exp": {"12/34"}})
	assert.Equal(t, http.StatusPaymentRequired, pg.Status)
	assert.Contains(t, pg.Body, "Your card has insufficient funds.")
	assert.Contains(t, billingTypes(b.eventsAfter(before)), "charge.failed")
	assert.Equal(t, stripe.InvoiceStatusOpen, b.invoice(inv.ID).Status)

	before = len(b.events(nil))
	pg = postPage(t, inv.HostedInvoiceURL, url.Values{"card": {"4242 4242 4242 4242"}, "exp": {"12 / 34"}, "cvc": {"123"}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	paid := b.invoice(inv.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
	assert.Equal(t, int64(1200), paid.AmountPaid)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
	types := billingTypes(b.eventsAfter(before))
	for _, want := range []string{"charge.succeeded", "payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded",
		"invoice_payment.paid", "customer.subscription.updated"} {
		assert.Contains(t, types, want)
	}
	after := getPage(t, b.srv.URL()+pg.Header.Get("Location"))
	assert.Contains(t, after.Body, "the invoice is paid")
	assert.Contains(t, getPDF(t, inv.InvoicePDF).Shown, "$12.00 paid")
	// Paying again is refused.
	again := postPage(t, inv.HostedInvoiceURL, url.Values{"card": {"4242424242424242"}})
	assert.Equal(t, http.StatusBadRequest, again.Status)
}
