package sampling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// State is what a Store keeps: every rule (Default included once changed)
// and the modification mark the SDKs compare against.
type State struct {
	Rules                []RuleRecord `json:"rules"`
	LastRuleModification float64      `json:"last_rule_modification"`
}

// Store persists rules. It is small on purpose so the main store can take
// the rules over later.
type Store interface {
	// Load returns the saved state, or found=false when nothing was saved.
	Load(ctx context.Context) (st State, found bool, err error)
	Save(ctx context.Context, st State) error
}

// RulesFileName is the file FileStore writes in its directory.
const RulesFileName = "sampling_rules.json"

// FileStore keeps the state as one JSON file, replaced atomically.
type FileStore struct {
	Dir string
}

// Load reads the file.
func (f FileStore) Load(ctx context.Context) (State, bool, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(f.Dir, RulesFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read sampling rules: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("decode sampling rules %s: %w", filepath.Join(f.Dir, RulesFileName), err)
	}
	return st, true, nil
}

// Save writes a temporary file, fsyncs it, renames it over the old one and
// fsyncs the directory, so a crash leaves either the old or the new rules.
func (f FileStore) Save(ctx context.Context, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sampling rules: %w", err)
	}
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.Dir, err)
	}
	tmp, err := os.CreateTemp(f.Dir, RulesFileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("save sampling rules: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save sampling rules: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync sampling rules: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save sampling rules: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.Dir, RulesFileName)); err != nil {
		return fmt.Errorf("replace sampling rules: %w", err)
	}
	d, err := os.Open(f.Dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", f.Dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Dir, err)
	}
	return nil
}
