package stripe

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file makes an invoice's PDF (invoice_pdf) with go-pdf/fpdf: the
// number, status, dates, who is billed, every line with its quantity and
// amount, and the totals, as the hosted page shows them. Its streams are
// left uncompressed, so that the text can be searched in the file.

// invoicePDF serves GET /invoice/{acct}/{token}/pdf.
func (s *Surface) invoicePDF(w http.ResponseWriter, r *http.Request) {
	var v *invoiceView
	err := s.db.View(func(tx *store.Tx) error {
		l, inv, err := s.openInvoicePage(tx, r)
		if err != nil {
			return err
		}
		v, err = l.invoiceView(inv)
		return err
	})
	if err != nil {
		s.pageError(w, err)
		return
	}
	body, err := renderInvoicePDF(v)
	if err != nil {
		s.pageError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "Invoice-"+v.Number+".pdf"))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// renderInvoicePDF lays out the invoice v on an A4 page (more when its
// lines need them).
func renderInvoicePDF(v *invoiceView) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetTitle("Invoice "+v.Number, true)
	pdf.SetSubject("Invoice "+v.Number+" of "+v.Business, true)
	pdf.SetCreator("billclock", true)
	pdf.SetAuthor(v.Business, true)
	// Dated by the invoice, not the wall clock: the same invoice gives the
	// same file.
	pdf.SetCreationDate(time.Unix(v.issuedAt, 0).UTC())
	pdf.SetModificationDate(time.Unix(v.issuedAt, 0).UTC())
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 20)
	pdf.CellFormat(110, 10, "Invoice", "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 10, tr(v.Business), "", 1, "R", false, 0, "")
	pdf.Ln(2)

	field := func(label, value string) {
		pdf.SetFont("Helvetica", "", 9)
		pdf.SetTextColor(105, 115, 134)
		pdf.CellFormat(38, 6, tr(label), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.SetTextColor(26, 31, 54)
		pdf.CellFormat(0, 6, tr(value), "", 1, "L", false, 0, "")
	}
	field("Invoice number", v.Number)
	field("Status", v.Status)
	field("Date of issue", v.Issued)
	field("Period", v.PeriodStart+" - "+v.PeriodEnd)
	if v.PaidAt != "" {
		field("Paid on", v.PaidAt)
	}
	if v.NextAttempt != "" {
		field("Next payment attempt", v.NextAttempt)
	}
	billed := v.CustomerEmail
	if v.CustomerName != "" {
		billed = v.CustomerName + ", " + v.CustomerEmail
	}
	field("Billed to", billed)
	pdf.Ln(6)

	pdf.SetFont("Helvetica", "B", 14)
	pdf.CellFormat(0, 8, tr(headline(v)), "", 1, "L", false, 0, "")
	pdf.Ln(4)

	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetDrawColor(227, 232, 238)
	pdf.CellFormat(120, 7, "Description", "B", 0, "L", false, 0, "")
	pdf.CellFormat(20, 7, "Qty", "B", 0, "R", false, 0, "")
	pdf.CellFormat(0, 7, "Amount", "B", 1, "R", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	for _, line := range v.Lines {
		x, y := pdf.GetXY()
		pdf.MultiCell(120, 5, tr(line.Description+"\n"+line.Period), "", "L", false)
		end := pdf.GetY()
		pdf.SetXY(x+120, y)
		pdf.CellFormat(20, 5, strconv.FormatInt(line.Quantity, 10), "", 0, "R", false, 0, "")
		pdf.CellFormat(0, 5, tr(line.Amount), "", 1, "R", false, 0, "")
		pdf.SetY(end + 1)
		pdf.Line(18, end+0.5, 192, end+0.5)
	}
	pdf.Ln(3)
	total := func(label, amount string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.CellFormat(140, 6, tr(label), "", 0, "R", false, 0, "")
		pdf.CellFormat(0, 6, tr(amount), "", 1, "R", false, 0, "")
	}
	total("Subtotal", v.Subtotal, false)
	for _, d := range v.Discounts {
		total(d.Label, d.Amount, false)
	}
	for _, t := range v.Taxes {
		total(t.Label, t.Amount, false)
	}
	total("Total", v.Total, true)
	if v.Balance != "" {
		total("Applied balance", v.Balance, false)
	}
	total("Amount due", v.AmountDue, false)
	total("Amount paid", v.AmountPaid, false)
	total("Amount remaining", v.AmountRemaining, true)

	pdf.Ln(8)
	pdf.SetFont("Helvetica", "", 8)
	pdf.SetTextColor(105, 115, 134)
	pdf.MultiCell(0, 4, tr("Test mode invoice "+v.ID+", made by billclock, a local emulator of Stripe's test clocks. "+
		"No money was or will be moved."), "", "L", false)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("invoice pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// headline is the amount the PDF puts first: what was paid on a paid
// invoice, what was due on a void one, what remains due on the others.
func headline(v *invoiceView) string {
	switch billing.InvoiceStatus(v.Status) {
	case billing.InvoicePaid:
		return v.AmountPaid + " paid"
	case billing.InvoiceVoid:
		return v.AmountDue + " due (void)"
	}
	return v.AmountRemaining + " due"
}
