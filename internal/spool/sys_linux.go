//go:build linux

package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// syncData uses fdatasync: the spool never relies on timestamps, and the
// file size change that appends cause is still flushed by it.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// lockDir takes an exclusive advisory lock so two processes never drive the
// same spool. The kernel drops it when the process dies, so a crash never
// leaves a stale lock behind.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock spool directory (is another process using it?): %w", err)
	}
	return f, nil
}
