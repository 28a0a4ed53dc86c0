package api

import (
	"database/sql"
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
	draining        prometheus.Gauge
	watching        prometheus.Gauge
	changes         *prometheus.CounterVec
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
		draining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "caserisk_draining",
			Help: "1 while the service drains for shutdown (readiness answers 503), else 0.",
		}),
		watching: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "caserisk_change_watch_up",
			Help: "1 while the service listens for other processes' changes (PostgreSQL LISTEN), else 0 (SQLite, or reconnecting).",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caserisk_changes_total",
			Help: "Changes heard from the database by kind: user, champion, missed (reconnected) and lost (connection lost).",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.scored, m.championVersion, m.auditBatch, m.auditErrors, m.draining, m.watching, m.changes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

// dbStats is what a store with a connection pool reports.
type dbStats interface{ DBStats() sql.DBStats }

// registerPool adds the database connection pool's metrics: a pool that
// waits for connections means the service needs more of them, or the
// database is slow.
func (m *metrics) registerPool(p dbStats) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "caserisk_db_connections_open",
			Help: "Open connections to the database (in use and idle)."},
			func() float64 { return float64(p.DBStats().OpenConnections) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "caserisk_db_connections_in_use",
			Help: "Connections to the database in use."},
			func() float64 { return float64(p.DBStats().InUse) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "caserisk_db_waits_total",
			Help: "Times a request waited for a free database connection."},
			func() float64 { return float64(p.DBStats().WaitCount) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "caserisk_db_wait_seconds_total",
			Help: "Time spent waiting for free database connections."},
			func() float64 { return p.DBStats().WaitDuration.Seconds() }),
	)
}
