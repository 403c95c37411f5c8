//go:build !linux

package spool

import (
	"fmt"
	"os"
)

func syncData(f *os.File) error { return f.Sync() }

// lockDir only creates the lock file on platforms without flock wiring; the
// spool's single-process rule is then the operator's to keep.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
