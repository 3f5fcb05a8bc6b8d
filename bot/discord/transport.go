package discord

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// apiTransport is the RoundTripper of the session's HTTP client. discordgo
// builds every REST URL from package-level endpoint variables fixed at
// https://discord.com/api; rather than changing those globals (shared by
// every session in the process), the transport rewrites each request for
// that prefix to the configured base URL. It also
//   - answers the gateway look-up itself when a gateway URL was given
//     (WithGatewayURL), and
//   - caps the rate-limit waits a response announces: discordgo sleeps
//     them out while holding the route's bucket, without a context, so an
//     hour-long X-RateLimit-Reset-After would stall every later request on
//     that route.
type apiTransport struct {
	next       http.RoundTripper
	base       *url.URL // replaces https://discord.com/api
	gatewayURL string   // "" asks Discord
	maxWait    time.Duration
}

var _ http.RoundTripper = (*apiTransport)(nil)

// gatewayPath matches the gateway look-ups discordgo makes.
var gatewayPath = regexp.MustCompile(`^/api/v\d+/gateway(/bot)?$`)

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "discord.com" || (req.URL.Path != "/api" && !strings.HasPrefix(req.URL.Path, "/api/")) {
		return t.next.RoundTrip(req)
	}
	if t.gatewayURL != "" && req.Method == http.MethodGet && gatewayPath.MatchString(req.URL.Path) {
		return t.gatewayResponse(req), nil
	}
	out := req.Clone(req.Context())
	u := *t.base
	u.Path = t.base.Path + strings.TrimPrefix(req.URL.Path, "/api")
	if req.URL.RawPath != "" {
		u.RawPath = t.base.EscapedPath() + strings.TrimPrefix(req.URL.RawPath, "/api")
	}
	u.RawQuery = req.URL.RawQuery
	out.URL = &u
	out.Host = ""
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	resp.Request = req // as the caller sent it, not as rewritten
	noteStatus(resp)
	t.capRateLimit(resp)
	return resp, nil
}

// gatewayResponse answers GET /gateway and /gateway/bot with the
// configured gateway URL.
func (t *apiTransport) gatewayResponse(req *http.Request) *http.Response {
	body, _ := json.Marshal(map[string]any{
		"url":    t.gatewayURL,
		"shards": 1,
		"session_start_limit": map[string]int{
			"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1,
		},
	})
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// maxRateLimitBody bounds how much of a 429 body is read to check it.
const maxRateLimitBody = 64 << 10

// capRateLimit bounds the waits resp announces to t.maxWait, and gives a
// 429 without a JSON body (from a proxy or a CDN) one that discordgo can
// read, so it surfaces as a rate limit rather than a decoding error.
func (t *apiTransport) capRateLimit(resp *http.Response) {
	h := resp.Header
	if v := h.Get("X-RateLimit-Reset-After"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err != nil || !(secs >= 0) || secs > t.maxWait.Seconds() {
			h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(t.maxWait.Seconds(), 'f', 3, 64))
		}
	}
	// discordgo reads the absolute X-RateLimit-Reset only without
	// Reset-After, against the Date header; drop it rather than trust two
	// clocks.
	h.Del("X-RateLimit-Reset")
	if resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRateLimitBody))
	resp.Body.Close()
	var rl struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if err != nil || json.Unmarshal(body, &rl) != nil || rl.RetryAfter == nil {
		secs := 1.0
		if ra, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && ra >= 0 && !math.IsInf(ra, 0) {
			secs = ra
		}
		body, _ = json.Marshal(map[string]any{"message": "You are being rate limited.", "retry_after": secs})
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	h.Del("Content-Length")
}
