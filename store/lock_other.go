//go:build windows || plan9 || solaris || aix || android

package store

import (
	"os"
	"time"
)

// lockFile does nothing where bbolt locks otherwise than with flock: the
// file is then checked before bbolt takes its lock, and a check racing a
// writer in another process may report damage that is not there.
func lockFile(*os.File, bool, time.Duration) error { return nil }
