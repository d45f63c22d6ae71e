package billing

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScratchKeepsChangesToItself: what is put, deleted, scheduled or
// announced in a scratch is seen through it and never reaches its base.
func TestScratchKeepsChangesToItself(t *testing.T) {
	base := newMemLedger()
	require.NoError(t, base.PutCustomer(&Customer{ID: "cus_1", Name: "base"}))
	for _, ii := range []*InvoiceItem{
		{ID: "ii_a", Customer: "cus_1", Amount: 1}, {ID: "ii_b", Customer: "cus_1", Amount: 2},
		{ID: "ii_c", Customer: "cus_1", Amount: 3},
	} {
		require.NoError(t, base.PutInvoiceItem(ii))
	}
	objects := maps.Clone(base.objects)

	s := newScratch(base)
	c, err := s.Customer("cus_1")
	require.NoError(t, err)
	c.Name = "scratch"
	require.NoError(t, s.PutCustomer(c))
	c.Name = "changed after the put"
	got, err := s.Customer("cus_1")
	require.NoError(t, err)
	assert.Equal(t, "scratch", got.Name, "a put is a copy")

	// Items: a, taken by an invoice; b, deleted; c as it was; d, new.
	a, err := s.InvoiceItem("ii_a")
	require.NoError(t, err)
	a.Invoice = "in_1"
	require.NoError(t, s.PutInvoiceItem(a))
	b, err := s.InvoiceItem("ii_b")
	require.NoError(t, err)
	require.NoError(t, s.DeleteInvoiceItem(b))
	require.NoError(t, s.PutInvoiceItem(&InvoiceItem{ID: "ii_d", Customer: "cus_1", Amount: 4}))
	require.NoError(t, s.PutInvoiceItem(&InvoiceItem{ID: "ii_e", Customer: "cus_2", Amount: 5}))
	pending, err := s.PendingInvoiceItems("cus_1")
	require.NoError(t, err)
	var ids []string
	for _, ii := range pending {
		ids = append(ids, ii.ID)
	}
	assert.Equal(t, []string{"ii_c", "ii_d"}, ids)
	_, err = s.InvoiceItem("ii_b")
	assert.Equal(t, NotFound, err.(*Error).Kind)

	require.NoError(t, s.PutInvoice(&Invoice{ID: "in_1", Customer: "cus_1"}))
	require.NoError(t, s.DeleteInvoice("in_1"))
	_, err = s.Invoice("in_1")
	assert.Error(t, err)
	require.NoError(t, s.Schedule(Task{Kind: TaskPeriodEnd, At: 1}))
	task, err := s.NextTask("", 1<<40)
	require.NoError(t, err)
	assert.Nil(t, task)
	require.NoError(t, s.Emit(Event{Type: EventCustomerUpdated}))
	assert.Len(t, s.events, 1)

	assert.Equal(t, objects, base.objects, "the base is as it was")
	assert.Empty(t, base.tasks)
	assert.Empty(t, base.events)
}
