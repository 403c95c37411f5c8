package demo

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/agentjs"
)

// shopVersion is the shop's application version (AppMonitorDetails.version).
const shopVersion = "1.4.2"

//go:embed site
var siteFS embed.FS

var pageTemplate = template.Must(template.ParseFS(siteFS, "site/page.html"))

// shop serves the static site: four kinds of pages that load the agent and
// call the API from the browser.
type shop struct {
	appMonitorName string
	appMonitorID   string
	ingestURL      string
	apiURL         string
	consoleURL     string
	agent          agentRef

	agentTag template.HTML
	note     string
}

type pageData struct {
	Title, Page, SKU, APIURL, ConsoleURL, AppMonitor, AgentNote string
	AgentTag                                                    template.HTML
}

func (s *shop) init() error {
	tag, err := s.agent.agentTag(s.ingestURL, s.appMonitorID, s.apiURL)
	if err != nil {
		return err
	}
	// The tag is our own HTML: the snippet's config is JSON-escaped for a
	// script element by agentjs or by agentTag.
	s.agentTag = template.HTML(tag)
	if s.agent.source != AgentFromCollector {
		s.note = "Note: " + string(s.agent.source) + "."
	}
	return nil
}

func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page("home", "Shop", ""))
	mux.HandleFunc("GET /cart", s.page("cart", "Cart", ""))
	mux.HandleFunc("GET /checkout", s.page("checkout", "Checkout", ""))
	mux.HandleFunc("GET /product/{sku}", func(w http.ResponseWriter, r *http.Request) {
		sku := r.PathValue("sku")
		title := strings.ReplaceAll(sku, "-", " ")
		for _, p := range catalog {
			if p.SKU == sku {
				title = p.Name
			}
		}
		s.page("product", title, sku)(w, r)
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))
	if s.agent.source == AgentFromShop {
		mux.Handle("GET "+agentjs.Path, s.agent.bundle.Handler())
	}
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=86400")
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func staticFiles() http.Handler {
	files := http.FileServerFS(siteFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "shop.js", "shop.css":
			w.Header().Set("Cache-Control", "max-age=300")
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/site/" + r.URL.Path
			files.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
}

func (s *shop) page(kind, title, sku string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		err := pageTemplate.Execute(&buf, pageData{
			Title: title, Page: kind, SKU: sku, APIURL: s.apiURL, ConsoleURL: s.consoleURL,
			AppMonitor: s.appMonitorName, AgentNote: s.note, AgentTag: s.agentTag,
		})
		if err != nil {
			http.Error(w, fmt.Sprintf("render %s: %v", kind, err), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(buf.Bytes())
	}
}
