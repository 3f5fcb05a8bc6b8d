package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// opsServer serves what operators and their tools ask of a running faqbot:
//
//   - /healthz: 200 while the process serves HTTP (liveness);
//   - /readyz: 200 once the engine is built and every adapter connected,
//     503 saying what is missing otherwise, and from the start of a stop;
//   - /metrics: the Prometheus metrics.
//
// It is meant for a private address (127.0.0.1 by default): it shows no
// secret, but nothing on it is for the public.
func (r *Runtime) opsServer(log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if problem := r.notReady(); problem != "" {
			http.Error(w, "not ready: "+problem, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Registry: r.m.reg, // counts its own errors
	}))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// notReady says why faqbot is not ready, or "" when it is.
func (r *Runtime) notReady() string {
	if !r.running.Load() {
		return "not running (starting or stopping)"
	}
	if down := r.m.disconnected(); len(down) > 0 {
		return "not connected: " + strings.Join(down, ", ")
	}
	return ""
}
