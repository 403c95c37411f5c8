package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"

	cdpnetwork "github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// FindChromium returns the path of an installed Chromium (or Chrome), or ""
// when there is none; `sightline demo --browser` uses it.
func FindChromium() string {
	for _, name := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// walkTimeout bounds one Chromium walk through the shop.
const walkTimeout = 60 * time.Second

// runChromium has one headless Chromium shop with the real agent until ctx
// ends: each walk is a new tab without cookies (a new session) that opens
// the shop in autoplay mode, where the page script clicks its
// way to the checkout and sets the title to "done".
func runChromium(ctx context.Context, path, shopURL string, stats *Stats, log *slog.Logger) error {
	// Not a temporary directory of the caller: Chromium's helpers may write
	// into the profile for a moment after the browser is told to stop.
	profile, err := os.MkdirTemp("", "sightline-demo-chromium-")
	if err != nil {
		return fmt.Errorf("chromium profile: %w", err)
	}
	defer func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Run(bctx); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}
	log.Info("headless Chromium shops with the real agent", "chromium", path)
	for ctx.Err() == nil {
		if err := walk(bctx, shopURL); err != nil && ctx.Err() == nil {
			stats.browserSessionErrors.Add(1)
			log.Debug("chromium walk failed", "err", err)
		} else if ctx.Err() == nil {
			stats.browserSessions.Add(1)
		}
		if sleepCtx(ctx, 3*time.Second) != nil {
			break
		}
	}
	return nil
}

// walk runs one visit in a new tab and waits for the page script to
// finish it. Without cookies and local storage the agent starts a new
// session and the cart is empty, as for a new visitor.
func walk(bctx context.Context, shopURL string) error {
	tctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	tctx, cancelT := context.WithTimeout(tctx, walkTimeout)
	defer cancelT()
	if err := chromedp.Run(tctx,
		cdpnetwork.ClearBrowserCookies(),
		storage.ClearDataForOrigin(shopURL, "cookies,local_storage"),
		chromedp.Navigate(shopURL+"/?autoplay=1"),
	); err != nil {
		return fmt.Errorf("open shop: %w", err)
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tctx.Done():
			return fmt.Errorf("walk did not finish: %w", tctx.Err())
		case <-tick.C:
		}
		var title string
		// Fails while a navigation is under way; the next tick asks again.
		if chromedp.Run(tctx, chromedp.Title(&title)) == nil && title == "done" {
			break
		}
	}
	// Leaving the page sends the agent's page-hide beacon (CLS, INP, the rest).
	_ = chromedp.Run(tctx, chromedp.Navigate("about:blank"), chromedp.Sleep(500*time.Millisecond))
	return nil
}
