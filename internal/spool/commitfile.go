package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

const (
	commitFileName = "commit"
	commitMagic    = "SLSPCMT1"
	commitFileSize = 8 + 8 + 8 + 4
)

// commitPoint is what survives a restart besides the segments themselves.
type commitPoint struct {
	committed uint64 // every seq <= committed has been stored downstream
	highWater uint64 // highest seq ever assigned; seqs are never reused
}

var errBadCommitFile = errors.New("commit file is corrupt")

func encodeCommitPoint(cp commitPoint) []byte {
	b := make([]byte, 0, commitFileSize)
	b = append(b, commitMagic...)
	b = binary.LittleEndian.AppendUint64(b, cp.committed)
	b = binary.LittleEndian.AppendUint64(b, cp.highWater)
	return binary.LittleEndian.AppendUint32(b, payloadChecksum(b))
}

func decodeCommitPoint(b []byte) (commitPoint, error) {
	if len(b) != commitFileSize || string(b[:8]) != commitMagic {
		return commitPoint{}, errBadCommitFile
	}
	if payloadChecksum(b[:24]) != binary.LittleEndian.Uint32(b[24:28]) {
		return commitPoint{}, errBadCommitFile
	}
	return commitPoint{
		committed: binary.LittleEndian.Uint64(b[8:16]),
		highWater: binary.LittleEndian.Uint64(b[16:24]),
	}, nil
}

// readCommitPoint returns the zero commit point when the file does not exist
// (a fresh spool).
func readCommitPoint(dir string) (commitPoint, error) {
	b, err := os.ReadFile(filepath.Join(dir, commitFileName))
	if errors.Is(err, os.ErrNotExist) {
		return commitPoint{}, nil
	}
	if err != nil {
		return commitPoint{}, fmt.Errorf("read commit point: %w", err)
	}
	cp, err := decodeCommitPoint(b)
	if err != nil {
		return commitPoint{}, fmt.Errorf("read commit point: %w", err)
	}
	return cp, nil
}

// writeCommitPoint replaces the commit file atomically: a crash leaves either
// the old or the new commit point, never a torn one.
func writeCommitPoint(dir string, cp commitPoint) error {
	tmp := filepath.Join(dir, commitFileName+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write commit point: %w", err)
	}
	if _, err := f.Write(encodeCommitPoint(cp)); err != nil {
		f.Close()
		return fmt.Errorf("write commit point: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync commit point: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close commit point: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, commitFileName)); err != nil {
		return fmt.Errorf("rename commit point: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
