package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Products and prices live on no test clock: their times are wall times.

// changed reports whether v marshals differently from before, the JSON of
// v as it was: Stripe sends *.updated events only for real changes.
func changed(before []byte, v any) (bool, error) {
	after, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(before, after), nil
}

// productFields are the product parameters shared by create and update (and,
// but for description, by a price's product_data); key turns a field's name
// into the parameter's ("name" or "product_data[name]").
type productFields struct {
	name, description *string
	active            *bool
	metadata          map[string]string
	clearMetadata     bool
}

func readProductFields(p *params, key func(string) string) productFields {
	var f productFields
	p.cannotUnset(key("name"))
	if name, ok := p.text(key("name"), maxProductName); ok {
		f.name = &name
	}
	if active, ok := p.bool(key("active")); ok {
		f.active = &active
	}
	f.metadata, f.clearMetadata = p.metadata(key("metadata"))
	return f
}

func (f productFields) apply(prod *billing.Product) {
	if f.name != nil {
		prod.Name = *f.name
	}
	if f.description != nil {
		prod.Description = *f.description
	}
	if f.active != nil {
		prod.Active = *f.active
	}
	prod.Metadata = applyMetadata(prod.Metadata, f.metadata, f.clearMetadata)
}

// newProduct makes a product from create parameters; custom is the id asked
// for, if any.
func newProduct(l *ledger, f productFields, custom, idParam string, now int64) (*billing.Product, error) {
	id := custom
	if id == "" {
		id = l.NewID("prod_")
	} else if _, err := l.Product(id); err == nil {
		e := invalid(idParam, "Product already exists.")
		e.Code = "resource_already_exists"
		return nil, e
	} else if !isMissing(err) {
		return nil, err
	}
	prod := &billing.Product{ID: id, Created: now, Updated: now, Active: true}
	f.apply(prod)
	if err := l.PutProduct(prod); err != nil {
		return nil, err
	}
	return prod, l.Emit(billing.Event{Type: billing.EventProductCreated, Time: now, Object: prod})
}

func (s *Surface) createProduct(c *call, tx *store.Tx) (any, error) {
	f := readProductFields(c.p, func(k string) string { return k })
	f.description = c.p.clearableText("description", maxProductDescription)
	if f.name == nil {
		c.p.fail(errMissing("name"))
	}
	id, _ := c.p.str("id")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	prod, err := newProduct(l, f, id, "id", c.now.Unix())
	if err != nil {
		return nil, err
	}
	return renderProduct(prod), nil
}

func (s *Surface) retrieveProduct(c *call, tx *store.Tx) (any, error) {
	return retrieveByID(s, c, tx, (*ledger).Product, renderProduct)
}

func (s *Surface) updateProduct(c *call, tx *store.Tx) (any, error) {
	f := readProductFields(c.p, func(k string) string { return k })
	f.description = c.p.clearableText("description", maxProductDescription)
	defaultPrice := c.p.clearable("default_price")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, prod, err := openByID(s, c, tx, (*ledger).Product)
	if err != nil {
		return nil, err
	}
	before, err := json.Marshal(prod)
	if err != nil {
		return nil, err
	}
	f.apply(prod)
	if defaultPrice != nil {
		if *defaultPrice != "" {
			price, err := l.Price(*defaultPrice)
			if err != nil {
				return nil, withParam(err, "default_price")
			}
			if price.Product != prod.ID {
				return nil, invalid("default_price", "The price %s belongs to product %s, not to %s.", price.ID, price.Product, prod.ID)
			}
		}
		prod.DefaultPrice = *defaultPrice
	}
	if diff, err := changed(before, prod); err != nil || !diff {
		return renderProduct(prod), err
	}
	prod.Updated = c.now.Unix()
	if err := l.PutProduct(prod); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventProductUpdated, Time: prod.Updated, Object: prod}); err != nil {
		return nil, err
	}
	return renderProduct(prod), nil
}

// errStopScan ends a scan of a collection early.
var errStopScan = errors.New("stop scan")

// findPrice returns the first price (oldest first) for which match is true,
// or nil.
func findPrice(l *ledger, match func(*billing.Price) bool) (*billing.Price, error) {
	coll, err := l.Collection(clockwork.PricesCollection)
	if err != nil {
		return nil, err
	}
	var found *billing.Price
	err = coll.Each(func(_ string, raw []byte) error {
		var p billing.Price
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		if match(&p) {
			found = &p
			return errStopScan
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return found, err
}

func (s *Surface) deleteProduct(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, prod, err := openByID(s, c, tx, (*ledger).Product)
	if err != nil {
		return nil, err
	}
	price, err := findPrice(l, func(p *billing.Price) bool { return p.Product == prod.ID && !p.Deleted })
	if err != nil {
		return nil, err
	}
	if price != nil {
		return nil, invalid("", "This product cannot be deleted because it has one or more user-created prices.")
	}
	coll, err := l.Collection(clockwork.ProductsCollection)
	if err != nil {
		return nil, err
	}
	if err := coll.Delete(prod.ID); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventProductDeleted, Time: c.now.Unix(), Object: prod}); err != nil {
		return nil, err
	}
	return renderDeleted(prod.ID, "product"), nil
}

func (s *Surface) listProducts(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	active, hasActive := c.p.bool("active")
	created := rangeParam(c.p, "created")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	_, coll, err := s.openCollection(c, tx, clockwork.ProductsCollection)
	if err != nil {
		return nil, err
	}
	match := func(prod *billing.Product) bool {
		return (!hasActive || prod.Active == active) && created.match(prod.Created)
	}
	return listTyped(coll, pg, "/v1/products", "product", match, func(prod *billing.Product) (any, error) {
		return renderProduct(prod), nil
	})
}

// readCurrency reads a three-letter currency code, lowercased.
func readCurrency(p *params, name string) (string, bool) {
	v, ok := p.str(name)
	if !ok {
		return "", false
	}
	v = strings.ToLower(v)
	if len(v) != 3 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz") != "" {
		p.fail(invalid(name, "Invalid currency: %s. Currencies are three-letter ISO codes, such as usd or eur.", v))
		return "", false
	}
	return v, true
}

// readRecurring reads recurring[interval] and recurring[interval_count];
// nil when recurring was not sent.
func readRecurring(p *params) *billing.Interval {
	rec, ok := p.sub("recurring")
	if !ok {
		return nil
	}
	iv := readRecurringHash(rec, "recurring")
	rec.enum("recurring[usage_type]", "licensed")
	p.fail(rec.check())
	return iv
}

// readLookupKey reads a lookup_key, which may be cleared (pointer to "").
func readLookupKey(p *params) *string {
	return p.clearableText("lookup_key", maxLookupKey)
}

// claimLookupKey gives key to price, taking it from the price that holds
// it when transfer is set and refusing otherwise.
func claimLookupKey(l *ledger, price *billing.Price, key string, transfer bool, now int64) error {
	if key == "" || key == price.LookupKey {
		return nil
	}
	holder, err := findPrice(l, func(p *billing.Price) bool { return p.LookupKey == key && p.ID != price.ID })
	if err != nil || holder == nil {
		return err
	}
	if !transfer {
		return invalid("lookup_key", "A price (`%s`) already uses that lookup key.", holder.ID)
	}
	holder.LookupKey = ""
	if err := l.PutPrice(holder); err != nil {
		return err
	}
	return l.Emit(billing.Event{Type: billing.EventPriceUpdated, Time: now, Object: holder})
}

func (s *Surface) createPrice(c *call, tx *store.Tx) (any, error) {
	currency, hasCurrency := readCurrency(c.p, "currency")
	if !hasCurrency {
		c.p.fail(errMissing("currency"))
	}
	amount, hasAmount := c.p.intIn("unit_amount", 0, billing.MaxAmount)
	if !hasAmount {
		c.p.fail(errMissing("unit_amount")) // unless it was refused: the first problem stands
	}
	productID, hasProduct := c.p.str("product")
	pd, hasProductData := c.p.sub("product_data")
	var pf productFields
	var customProductID string
	if hasProductData {
		pf = readProductFields(pd, func(k string) string { return "product_data[" + k + "]" })
		if pf.name == nil {
			pd.fail(errMissing("product_data[name]"))
		}
		customProductID, _ = pd.str("product_data[id]")
		c.p.fail(pd.check())
	}
	switch {
	case hasProduct && hasProductData:
		c.p.fail(invalid("", "You may only specify one of these parameters: product, product_data."))
	case !hasProduct && !hasProductData:
		c.p.fail(errMissing("product"))
	}
	recurring := readRecurring(c.p)
	active, hasActive := c.p.bool("active")
	lookupKey := readLookupKey(c.p)
	transfer, _ := c.p.bool("transfer_lookup_key")
	nickname, _ := c.p.text("nickname", maxNickname)
	metadata, cleared := c.p.metadata("metadata")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	if hasProduct {
		if _, err := l.Product(productID); err != nil {
			return nil, withParam(err, "product")
		}
	} else {
		prod, err := newProduct(l, pf, customProductID, "product_data[id]", now)
		if err != nil {
			return nil, err
		}
		productID = prod.ID
	}
	price := &billing.Price{ID: l.NewID("price_"), Created: now, Product: productID, Currency: currency,
		UnitAmount: amount, Recurring: recurring, Active: !hasActive || active, Nickname: nickname,
		Metadata: applyMetadata(nil, metadata, cleared)}
	if lookupKey != nil {
		if err := claimLookupKey(l, price, *lookupKey, transfer, now); err != nil {
			return nil, err
		}
		price.LookupKey = *lookupKey
	}
	if err := l.PutPrice(price); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventPriceCreated, Time: now, Object: price}); err != nil {
		return nil, err
	}
	return renderPrice(price), nil
}

func (s *Surface) retrievePrice(c *call, tx *store.Tx) (any, error) {
	return retrieveByID(s, c, tx, (*ledger).livePrice, renderPrice)
}

func (s *Surface) updatePrice(c *call, tx *store.Tx) (any, error) {
	active, hasActive := c.p.bool("active")
	nickname := c.p.clearableText("nickname", maxNickname)
	lookupKey := readLookupKey(c.p)
	transfer, _ := c.p.bool("transfer_lookup_key")
	metadata, cleared := c.p.metadata("metadata")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, price, err := openByID(s, c, tx, (*ledger).livePrice)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	before, err := json.Marshal(price)
	if err != nil {
		return nil, err
	}
	if hasActive {
		price.Active = active
	}
	if nickname != nil {
		price.Nickname = *nickname
	}
	if lookupKey != nil {
		if err := claimLookupKey(l, price, *lookupKey, transfer, now); err != nil {
			return nil, err
		}
		price.LookupKey = *lookupKey
	}
	price.Metadata = applyMetadata(price.Metadata, metadata, cleared)
	if diff, err := changed(before, price); err != nil || !diff {
		return renderPrice(price), err
	}
	if err := l.PutPrice(price); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventPriceUpdated, Time: now, Object: price}); err != nil {
		return nil, err
	}
	return renderPrice(price), nil
}

// maxLookupKeysFilter is how many lookup_keys a price listing may name.
const maxLookupKeysFilter = 10

func (s *Surface) listPrices(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	active, hasActive := c.p.bool("active")
	product, _ := c.p.str("product")
	typ, _ := c.p.enum("type", "one_time", "recurring")
	currency, _ := readCurrency(c.p, "currency")
	lookupKeys := c.p.strings("lookup_keys")
	if len(lookupKeys) > maxLookupKeysFilter {
		c.p.fail(invalid("lookup_keys", "You may pass at most %d lookup_keys.", maxLookupKeysFilter))
	}
	var interval string
	if rec, ok := c.p.sub("recurring"); ok {
		interval, _ = rec.enum("recurring[interval]", "day", "week", "month", "year")
		rec.enum("recurring[usage_type]", "licensed", "metered")
		c.p.fail(rec.check())
	}
	created := rangeParam(c.p, "created")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for _, k := range lookupKeys {
		keys[k] = true
	}
	_, coll, err := s.openCollection(c, tx, clockwork.PricesCollection)
	if err != nil {
		return nil, err
	}
	match := func(p *billing.Price) bool {
		switch {
		case p.Deleted, hasActive && p.Active != active,
			product != "" && p.Product != product,
			typ == "one_time" && p.Recurring != nil,
			typ == "recurring" && p.Recurring == nil,
			currency != "" && p.Currency != currency,
			len(keys) > 0 && !keys[p.LookupKey],
			interval != "" && (p.Recurring == nil || string(p.Recurring.Unit) != interval),
			!created.match(p.Created):
			return false
		}
		return true
	}
	return listTyped(coll, pg, "/v1/prices", "price", match, func(p *billing.Price) (any, error) {
		return renderPrice(p), nil
	})
}
