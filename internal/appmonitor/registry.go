// Package appmonitor validates app monitor definitions and keeps the
// id → app monitor lookup that every PutRumEvents request needs fast, in
// front of the store that persists them.
package appmonitor

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/receiver/rumdata"
	"github.com/sightline/sightline/internal/store"
)

// ValidationError is a client mistake in a definition, naming the field.
type ValidationError struct{ Field, Msg string }

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

var (
	namePattern   = regexp.MustCompile(`^[\.\-_#A-Za-z0-9]{1,255}$`)
	domainPattern = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9\-\.]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
)

// Validate checks a definition the way CloudWatch RUM does, plus
// Sightline's page-pattern and allow-list rules.
func Validate(m *model.AppMonitor) error {
	if !namePattern.MatchString(m.Name) || strings.HasPrefix(m.Name, ".") {
		return &ValidationError{"Name", fmt.Sprintf("%q must be 1-255 characters of letters, digits, . - _ # and not start with '.'", m.Name)}
	}
	domains := m.Domains()
	if len(domains) == 0 {
		return &ValidationError{"Domain", "Domain or DomainList is required"}
	}
	if m.Domain != "" && len(m.DomainList) > 0 {
		return &ValidationError{"DomainList", "give Domain or DomainList, not both"}
	}
	if len(m.DomainList) > 5 {
		return &ValidationError{"DomainList", "at most 5 domains"}
	}
	for _, d := range domains {
		if len(d) > 253 || !domainPattern.MatchString(d) {
			return &ValidationError{"Domain", fmt.Sprintf("%q is not a host name, *.host wildcard or host:port", d)}
		}
	}
	c := m.AppMonitorConfiguration
	if c.SessionSampleRate != nil && (*c.SessionSampleRate < 0 || *c.SessionSampleRate > 1) {
		return &ValidationError{"AppMonitorConfiguration.SessionSampleRate", fmt.Sprintf("%v is not between 0 and 1", *c.SessionSampleRate)}
	}
	for _, t := range c.Telemetries {
		if t != model.TelemetryErrors && t != model.TelemetryPerf && t != model.TelemetryHTTP {
			return &ValidationError{"AppMonitorConfiguration.Telemetries", fmt.Sprintf("%q is not errors, performance or http", t)}
		}
	}
	if _, err := pipeline.NewPageMatcher(c.IncludedPages, c.ExcludedPages); err != nil {
		return &ValidationError{"AppMonitorConfiguration.IncludedPages", err.Error()}
	}
	if len(c.IncludedPages) > 0 && len(c.ExcludedPages) > 0 {
		return &ValidationError{"AppMonitorConfiguration.ExcludedPages", "give IncludedPages or ExcludedPages, not both"}
	}
	for _, o := range c.TraceHeaderAllowList {
		if strings.HasPrefix(o, "/") && strings.HasSuffix(o, "/") && len(o) > 1 {
			if _, err := regexp.Compile(o[1 : len(o)-1]); err != nil {
				return &ValidationError{"AppMonitorConfiguration.TraceHeaderAllowList", err.Error()}
			}
			continue
		}
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return &ValidationError{"AppMonitorConfiguration.TraceHeaderAllowList", fmt.Sprintf("%q is neither an origin (https://host[:port]) nor a /regexp/", o)}
		}
	}
	return nil
}

// Registry is the app monitor service: validation, ids, and a cache for
// the ingest path, with the store as the source of truth.
type Registry struct {
	st        store.AppMonitors
	refresh   time.Duration
	now       func() time.Time
	mu        sync.Mutex
	byID      map[string]*model.AppMonitor
	loadedAt  time.Time
	missLoads time.Time
}

// NewRegistry wraps a store. refresh bounds how stale the cache may be
// when another process (a scale-out collector) shares the store.
func NewRegistry(st store.AppMonitors, refresh time.Duration) *Registry {
	return &Registry{st: st, refresh: refresh, now: time.Now}
}

// Create validates, assigns an id and stores the app monitor.
func (r *Registry) Create(ctx context.Context, m *model.AppMonitor) error {
	if err := Validate(m); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	if m.AppMonitorConfiguration.SessionSampleRate == nil {
		one := 1.0
		m.AppMonitorConfiguration.SessionSampleRate = &one
	}
	if err := r.st.CreateAppMonitor(ctx, m); err != nil {
		return err
	}
	r.invalidate()
	return nil
}

// Get returns the app monitor called name.
func (r *Registry) Get(ctx context.Context, name string) (*model.AppMonitor, error) {
	return r.st.GetAppMonitor(ctx, name)
}

// List returns all app monitors by name.
func (r *Registry) List(ctx context.Context) ([]model.AppMonitor, error) {
	return r.st.ListAppMonitors(ctx)
}

// Update validates and stores a changed definition; the id never changes.
func (r *Registry) Update(ctx context.Context, m *model.AppMonitor) error {
	if err := Validate(m); err != nil {
		return err
	}
	if err := r.st.UpdateAppMonitor(ctx, m); err != nil {
		return err
	}
	r.invalidate()
	return nil
}

// Delete removes the app monitor; its id stops accepting events.
func (r *Registry) Delete(ctx context.Context, name string) error {
	if err := r.st.DeleteAppMonitor(ctx, name); err != nil {
		return err
	}
	r.invalidate()
	return nil
}

func (r *Registry) invalidate() {
	r.mu.Lock()
	r.byID = nil
	r.mu.Unlock()
}

// AppMonitorByID serves the ingest path from memory, reloading when stale
// and at most once a second for unknown ids.
func (r *Registry) AppMonitorByID(ctx context.Context, id string) (*model.AppMonitor, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	stale := r.byID == nil || now.Sub(r.loadedAt) > r.refresh
	m, ok := r.byID[id]
	if !ok && !stale && now.Sub(r.missLoads) > time.Second {
		stale = true
		r.missLoads = now
	}
	if stale {
		list, err := r.st.ListAppMonitors(ctx)
		if err != nil {
			if r.byID != nil && ok {
				return m, nil // serve the known definition while the store is down
			}
			return nil, fmt.Errorf("load app monitors: %w", err)
		}
		r.byID = make(map[string]*model.AppMonitor, len(list))
		for i := range list {
			r.byID[list[i].ID] = &list[i]
		}
		r.loadedAt = now
		m, ok = r.byID[id]
	}
	if !ok {
		return nil, rumdata.ErrUnknownAppMonitor
	}
	return m, nil
}

// IsValidation reports whether err is a client mistake.
func IsValidation(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve)
}
