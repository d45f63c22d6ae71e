//go:build !windows && !plan9 && !solaris && !aix && !android

package store

import (
	"os"
	"syscall"
	"time"
)

// lockFile takes bbolt's lock on f (flock, as bbolt v1.5.0's bolt_unix.go
// does) before bbolt does, so that the file is checked while no other
// process can write it. bbolt's own flock on the same descriptor then
// succeeds at once.
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	expired := time.After(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err != syscall.EWOULDBLOCK {
			return err
		}
		select {
		case <-expired:
			return errLockTimeout
		case <-time.After(50 * time.Millisecond):
		}
	}
}
