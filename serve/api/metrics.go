package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the service's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.HistogramVec
	scored          *prometheus.CounterVec
	championVersion *prometheus.GaugeVec
	auditBatch      prometheus.Histogram
	auditErrors     prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "caserisk_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route template and status.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"method", "route", "status"}),
		scored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caserisk_rows_scored_total",
			Help: "Feature rows scored through POST /api/v1/score, by target.",
		}, []string{"target"}),
		championVersion: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "caserisk_champion_version",
			Help: "Registry version of the model scoring each target.",
		}, []string{"target"}),
		auditBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "caserisk_audit_batch_rows",
			Help:    "Audit rows written per chained append.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "caserisk_audit_append_errors_total",
			Help: "Audit appends that failed (the reads they covered were refused).",
		}),
	}
	m.reg.MustRegister(m.requests, m.scored, m.championVersion, m.auditBatch, m.auditErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}
