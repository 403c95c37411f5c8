package e2e

import cdpruntime "github.com/chromedp/cdproto/runtime"

type runtimeEvaluateParams = cdpruntime.EvaluateParams
