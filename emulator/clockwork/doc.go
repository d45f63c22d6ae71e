// Package clockwork is billclock's provider-neutral runtime: the machinery
// that makes test clocks work, shared by every provider dialect.
package clockwork
