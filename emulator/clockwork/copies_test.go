package clockwork

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// TestCopiesShareNothing: the copy of every object the ledger keeps equals
// the original and shares no slice, map or pointer with it, every field
// filled (so a field added later that the copy forgets fails here).
func TestCopiesShareNothing(t *testing.T) {
	check := func(name string, orig any, copied any) {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, orig, copied)
			shared := sharedMemory(reflect.ValueOf(orig), reflect.ValueOf(copied), name)
			assert.Empty(t, shared, "the copy shares these with the original")
		})
	}
	var cust billing.Customer
	fill(reflect.ValueOf(&cust).Elem())
	check("customer", &cust, copyCustomer(&cust))
	var sub billing.Subscription
	fill(reflect.ValueOf(&sub).Elem())
	check("subscription", &sub, copySubscription(&sub))
	var inv billing.Invoice
	fill(reflect.ValueOf(&inv).Elem())
	check("invoice", &inv, copyInvoice(&inv))
	var pm billing.PaymentMethod
	fill(reflect.ValueOf(&pm).Elem())
	check("payment method", &pm, copyPaymentMethod(&pm))
	var p billing.Payment
	fill(reflect.ValueOf(&p).Elem())
	check("payment", &p, copyPayment(&p))
	var ch billing.Charge
	fill(reflect.ValueOf(&ch).Elem())
	check("charge", &ch, copyCharge(&ch))
	var ip billing.InvoicePayment
	fill(reflect.ValueOf(&ip).Elem())
	check("invoice payment", &ip, copyInvoicePayment(&ip))
	var clock billing.Clock
	fill(reflect.ValueOf(&clock).Elem())
	check("clock", &clock, copyClock(&clock))
}

// fill sets every field reachable from v to something other than its zero
// value: slices and maps get two elements, pointers a filled value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"a", "b"} {
			val := reflect.New(v.Type().Elem()).Elem()
			fill(val)
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), val)
		}
		v.Set(m)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// sharedMemory lists the paths under which a and b (of the same type)
// share a pointer, a slice's array or a map.
func sharedMemory(a, b reflect.Value, path string) []string {
	var out []string
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		return append(out, sharedMemory(a.Elem(), b.Elem(), path+".*")...)
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				out = append(out, sharedMemory(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)...)
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		for i := range min(a.Len(), b.Len()) {
			out = append(out, sharedMemory(a.Index(i), b.Index(i), path+"[]")...)
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		for _, k := range a.MapKeys() {
			if bv := b.MapIndex(k); bv.IsValid() {
				out = append(out, sharedMemory(a.MapIndex(k), bv, path+"[k]")...)
			}
		}
	}
	return out
}
