package emulator_test

import (
	"fmt"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// BenchmarkAdvanceClockWithCustomers advances a clock carrying N customers,
// each with a 3-seat monthly subscription, by two months (two renewals
// each), timed from the advance call to ready. scripts/advancebench runs the
// same scenario at N = 10,000 and reports memory.
func BenchmarkAdvanceClockWithCustomers(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				srv := emulatortest.Start(b, emulator.Config{})
				c := emulatortest.NewClient(srv.URL(), "sk_test_bench_advance", 16)
				clock, err := c.SeedSeats(1735689600, n, 16)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := c.AdvanceAndWait(clock, 1740787200, 0); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				srv.Stop()
				b.StartTimer()
			}
		})
	}
}
