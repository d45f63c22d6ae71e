package chargebee

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// The Product Catalog 2.0 subset: item families (the dialect's own
// collection), items (the engine's products) and item prices (the engine's
// prices, recurring for plans and addons). What the engine's objects do
// not hold is kept in their Metadata under the keys below: Chargebee's
// catalog has no user metadata of its own there.

// itemFamiliesCollection holds the site's item families.
const itemFamiliesCollection = "chargebee_item_families"

// Metadata keys of items and item prices.
const (
	mdType          = "type"
	mdItemFamily    = "item_family_id"
	mdExternalName  = "external_name"
	mdName          = "name"
	mdPricingModel  = "pricing_model"
	mdItemType      = "item_type"
	mdDescription   = "description"
	mdPriceCurrency = "currency"
)

// Item types and pricing models.
const (
	itemPlan   = "plan"
	itemAddon  = "addon"
	itemCharge = "charge"

	flatFee = "flat_fee"
	perUnit = "per_unit"
)

// idPattern is the shape of the ids users give: Chargebee's are at most
// 100 characters; billclock takes letters, digits and _ - . @ + : only, so
// that an id is a plain path segment.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_\-.@+:]{1,100}$`)

// readID reads the id parameter name: required, or a fresh id when
// missing (kind, for NewID).
func (c *call) readID(name string, required bool) string {
	v, ok := c.p.str(name)
	switch {
	case !ok || v == "":
		if required {
			c.p.fail(errRequired(name))
		}
		return ""
	case !idPattern.MatchString(v):
		c.p.fail(errParam(name, "invalid value: an id is 1 to 100 letters, digits or _ - . @ + :"))
		return ""
	}
	return v
}

// itemFamily is an item family as stored.
type itemFamily struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Created     int64  `json:"created"`
}

type itemFamilyObject struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	Status          string `json:"status"`
	ResourceVersion int64  `json:"resource_version"`
	UpdatedAt       int64  `json:"updated_at"`
	Channel         string `json:"channel"`
	Object          string `json:"object"`
}

func renderItemFamily(f *itemFamily) *itemFamilyObject {
	return &itemFamilyObject{ID: f.ID, Name: f.Name, Description: f.Description, Status: "active",
		ResourceVersion: f.Created * 1000, UpdatedAt: f.Created, Channel: "web", Object: "item_family"}
}

func (s *Surface) createItemFamily(c *call) (any, error) {
	id := c.readID("id", true)
	name := c.p.required("name", 50)
	desc, _ := c.p.text("description", 500)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	var existing itemFamily
	if err := c.l.Get(itemFamiliesCollection, "item family", id, &existing); err == nil {
		return nil, errDuplicate("id", "item family", id)
	}
	f := &itemFamily{ID: id, Name: name, Description: desc, Created: now}
	if err := c.l.Put(itemFamiliesCollection, id, now, f); err != nil {
		return nil, err
	}
	return map[string]any{"item_family": renderItemFamily(f)}, nil
}

func (s *Surface) retrieveItemFamily(c *call) (any, error) {
	var f itemFamily
	if err := c.l.Get(itemFamiliesCollection, "item family", c.vars["id"], &f); err != nil {
		return nil, err
	}
	return map[string]any{"item_family": renderItemFamily(&f)}, nil
}

func (s *Surface) listItemFamilies(c *call) (any, error) {
	return c.listCollection(itemFamiliesCollection, "item_family", nil, func(raw []byte) (any, error) {
		var f itemFamily
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, err
		}
		return renderItemFamily(&f), nil
	})
}

type itemObject struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	ExternalName       string `json:"external_name"`
	Description        string `json:"description,omitempty"`
	Status             string `json:"status"`
	ResourceVersion    int64  `json:"resource_version"`
	UpdatedAt          int64  `json:"updated_at"`
	ItemFamilyID       string `json:"item_family_id"`
	Type               string `json:"type"`
	IsShippable        bool   `json:"is_shippable"`
	IsGiftable         bool   `json:"is_giftable"`
	EnabledForCheckout bool   `json:"enabled_for_checkout"`
	EnabledInPortal    bool   `json:"enabled_in_portal"`
	ItemApplicability  string `json:"item_applicability"`
	Metered            bool   `json:"metered"`
	Channel            string `json:"channel"`
	Object             string `json:"object"`
}

func renderItem(p *billing.Product) *itemObject {
	return &itemObject{ID: p.ID, Name: p.Name, ExternalName: p.Metadata[mdExternalName], Description: p.Description,
		Status: "active", ResourceVersion: p.Updated * 1000, UpdatedAt: p.Updated, ItemFamilyID: p.Metadata[mdItemFamily],
		Type: p.Metadata[mdType], EnabledForCheckout: true, EnabledInPortal: true, ItemApplicability: "all",
		Channel: "web", Object: "item"}
}

func (s *Surface) createItem(c *call) (any, error) {
	id := c.readID("id", true)
	name := c.p.required("name", 100)
	typ, ok := c.p.enum("type", itemPlan, itemAddon, itemCharge)
	if !ok {
		c.p.fail(errRequired("type"))
	}
	family := c.readID("item_family_id", true)
	external, _ := c.p.text("external_name", 100)
	desc, _ := c.p.text("description", 2000)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	var f itemFamily
	if err := c.l.Get(itemFamiliesCollection, "item family", family, &f); err != nil {
		var be *billing.Error
		if asBilling(err, &be) {
			return nil, errParam("item_family_id", "the item family "+family+" does not exist")
		}
		return nil, err
	}
	if _, err := c.l.Product(id); err == nil {
		return nil, errDuplicate("id", "item", id)
	}
	if external == "" {
		external = name
	}
	p := &billing.Product{ID: id, Created: now, Updated: now, Name: name, Description: desc, Active: true,
		Metadata: map[string]string{mdType: typ, mdItemFamily: family, mdExternalName: external}}
	if err := c.l.PutProduct(p); err != nil {
		return nil, err
	}
	return map[string]any{"item": renderItem(p)}, nil
}

func (s *Surface) retrieveItem(c *call) (any, error) {
	p, err := c.l.Product(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return map[string]any{"item": renderItem(p)}, nil
}

func (s *Surface) listItems(c *call) (any, error) {
	return c.listCollection(clockwork.ProductsCollection, "item", nil, func(raw []byte) (any, error) {
		var p billing.Product
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		return renderItem(&p), nil
	})
}

type itemPriceObject struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ItemFamilyID    string `json:"item_family_id"`
	ItemID          string `json:"item_id"`
	Description     string `json:"description,omitempty"`
	Status          string `json:"status"`
	ExternalName    string `json:"external_name"`
	PricingModel    string `json:"pricing_model"`
	Price           int64  `json:"price"`
	Period          int    `json:"period,omitempty"`
	PeriodUnit      string `json:"period_unit,omitempty"`
	CurrencyCode    string `json:"currency_code"`
	FreeQuantity    int64  `json:"free_quantity"`
	CreatedAt       int64  `json:"created_at"`
	UpdatedAt       int64  `json:"updated_at"`
	ResourceVersion int64  `json:"resource_version"`
	IsTaxable       bool   `json:"is_taxable"`
	ItemType        string `json:"item_type"`
	Channel         string `json:"channel"`
	Object          string `json:"object"`
}

func renderItemPrice(p *billing.Price) *itemPriceObject {
	o := &itemPriceObject{ID: p.ID, Name: p.Metadata[mdName], ItemFamilyID: p.Metadata[mdItemFamily], ItemID: p.Product,
		Description: p.Metadata[mdDescription], Status: "active", ExternalName: p.Metadata[mdExternalName],
		PricingModel: p.Metadata[mdPricingModel], Price: p.UnitAmount, CurrencyCode: strings.ToUpper(p.Currency),
		CreatedAt: p.Created, UpdatedAt: p.Created, ResourceVersion: p.Created * 1000, IsTaxable: true,
		ItemType: p.Metadata[mdItemType], Channel: "web", Object: "item_price"}
	if p.Recurring != nil {
		o.Period, o.PeriodUnit = p.Recurring.Count, string(p.Recurring.Unit)
	}
	return o
}

var currencyPattern = regexp.MustCompile(`^[A-Za-z]{3}$`)

func (s *Surface) createItemPrice(c *call) (any, error) {
	id := c.readID("id", true)
	itemID := c.readID("item_id", true)
	name := c.p.required("name", 100)
	model, ok := c.p.enum("pricing_model", flatFee, perUnit)
	if !ok {
		model = flatFee
	}
	price, _ := c.p.int64("price", 0, billing.MaxAmount)
	currency := "usd"
	if v, ok := c.p.text("currency_code", 3); ok {
		if !currencyPattern.MatchString(v) {
			c.p.fail(errParam("currency_code", "invalid value, must be a three-letter ISO 4217 code"))
		}
		currency = strings.ToLower(v)
	}
	period, hasPeriod := c.p.int64("period", 1, 1095)
	unit, hasUnit := c.p.enum("period_unit", string(billing.Day), string(billing.Week), string(billing.Month), string(billing.Year))
	external, _ := c.p.text("external_name", 100)
	desc, _ := c.p.text("description", 2000)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	item, err := c.l.Product(itemID)
	if err != nil {
		return nil, errParam("item_id", "the item "+itemID+" does not exist")
	}
	if _, err := c.l.Price(id); err == nil {
		return nil, errDuplicate("id", "item price", id)
	}
	typ := item.Metadata[mdType]
	p := &billing.Price{ID: id, Created: now, Product: item.ID, Currency: currency, UnitAmount: price, Active: true,
		Nickname: name, Metadata: map[string]string{mdName: name, mdPricingModel: model, mdItemType: typ,
			mdItemFamily: item.Metadata[mdItemFamily], mdExternalName: external, mdDescription: desc}}
	if external == "" {
		p.Metadata[mdExternalName] = name
	}
	if desc == "" {
		delete(p.Metadata, mdDescription)
	}
	switch {
	case typ == itemCharge && (hasPeriod || hasUnit):
		return nil, errParam("period_unit", "not applicable to an item price of a charge")
	case typ != itemCharge && !hasUnit:
		return nil, errRequired("period_unit")
	case typ != itemCharge:
		if !hasPeriod {
			period = 1
		}
		iv := billing.Interval{Unit: billing.IntervalUnit(unit), Count: int(period)}
		if iv.Count > billing.MaxIntervalCount(iv.Unit) {
			return nil, errParam("period", "the period is at most three years")
		}
		p.Recurring = &iv
	}
	if err := c.l.PutPrice(p); err != nil {
		return nil, err
	}
	return map[string]any{"item_price": renderItemPrice(p)}, nil
}

func (s *Surface) retrieveItemPrice(c *call) (any, error) {
	p, err := c.l.Price(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return map[string]any{"item_price": renderItemPrice(p)}, nil
}

func (s *Surface) listItemPrices(c *call) (any, error) {
	itemFilter := c.p.strFilter("item_id", nil)
	return c.listCollection(clockwork.PricesCollection, "item_price", func(raw []byte) (bool, error) {
		if !itemFilter.set() {
			return true, nil
		}
		var p billing.Price
		if err := json.Unmarshal(raw, &p); err != nil {
			return false, err
		}
		return itemFilter.match(p.Product), nil
	}, func(raw []byte) (any, error) {
		var p billing.Price
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		return renderItemPrice(&p), nil
	})
}
