package core

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"caserisk/serve/audit"
	"caserisk/serve/store"
)

// auditWriter writes audit records in groups: concurrent requests each hand it
// a record and wait; one goroutine appends whatever has gathered as one
// chained write and tells each request its outcome. A read is answered only
// after its record is stored, so every read is in the log, and a busy
// service pays one database write per group instead of one per read.
type auditWriter struct {
	st      store.AuditLog
	observe func(rows int, err error) // nil: none
	log     *slog.Logger
	in      chan auditReq
	stop    chan struct{}
	done    chan struct{}
	closeMu sync.Once
}

type auditReq struct {
	rec  audit.Record
	done chan error
}

// maxAuditBatch bounds the records written in one append.
const maxAuditBatch = 256

// auditTimeout bounds one append.
const auditTimeout = 10 * time.Second

func newAuditWriter(st store.AuditLog, observe func(int, error), log *slog.Logger) *auditWriter {
	a := &auditWriter{st: st, observe: observe, log: log, in: make(chan auditReq, maxAuditBatch),
		stop: make(chan struct{}), done: make(chan struct{})}
	go a.loop()
	return a
}

func (a *auditWriter) loop() {
	defer close(a.done)
	batch := make([]auditReq, 0, maxAuditBatch)
	for {
		select {
		case r := <-a.in:
			batch = append(batch[:0], r)
		case <-a.stop:
			// Requests have finished (the server shut down first); write
			// anything still queued.
			for {
				select {
				case r := <-a.in:
					a.flush([]auditReq{r})
				default:
					return
				}
			}
		}
	gather:
		for len(batch) < maxAuditBatch {
			select {
			case r := <-a.in:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		a.flush(batch)
	}
}

func (a *auditWriter) flush(batch []auditReq) {
	recs := make([]audit.Record, len(batch))
	for i, r := range batch {
		recs[i] = r.rec
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	_, err := a.st.AppendAudit(ctx, recs...)
	cancel()
	if a.observe != nil {
		a.observe(len(batch), err)
	}
	if err != nil {
		a.log.Error("append audit rows", "rows", len(batch), "err", err)
		err = fmt.Errorf("append audit: %w", err)
	}
	for _, r := range batch {
		r.done <- err
	}
}

// append stores rec and returns once it is in the log.
func (a *auditWriter) append(ctx context.Context, rec audit.Record) error {
	return a.submit(ctx, rec)()
}

// submit queues rec and returns a function that waits until it is in the
// log, so that a handler can read its data meanwhile and answer only once
// the read is recorded.
func (a *auditWriter) submit(ctx context.Context, rec audit.Record) (wait func() error) {
	r := auditReq{rec: rec, done: make(chan error, 1)}
	select {
	case a.in <- r:
	case <-a.stop:
		return func() error { return fmt.Errorf("append audit: the service is stopping") }
	case <-ctx.Done():
		return func() error { return fmt.Errorf("append audit: %w", ctx.Err()) }
	}
	return func() error { return a.await(ctx, r) }
}

func (a *auditWriter) await(ctx context.Context, r auditReq) error {
	select {
	case err := <-r.done:
		return err
	case <-a.done:
		select {
		case err := <-r.done:
			return err
		default:
			return fmt.Errorf("append audit: the service is stopping")
		}
	case <-ctx.Done():
		// The record may still be written; the read is refused either way.
		return fmt.Errorf("append audit: %w", ctx.Err())
	}
}

// close writes what is queued and stops the writer.
func (a *auditWriter) close() {
	a.closeMu.Do(func() { close(a.stop) })
	<-a.done
}
