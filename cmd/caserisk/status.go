package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// statusDelay is how long a command runs before its status line appears:
// quick runs print nothing extra.
const statusDelay = 2 * time.Second

// status shows what a long-running command is doing on one line of
// standard error, rewritten in place: the step, its row count when known,
// and the time so far. It shows only when standard error is a terminal
// (quiet when piped or redirected, so scripts and logs see only the
// command's own output) and only after statusDelay.
type status struct {
	w     io.Writer // nil: quiet
	name  string
	start time.Time

	mu    sync.Mutex
	step  string
	total int64
	done  atomic.Int64 // rows of the step done so far

	shown bool
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// startStatus starts the status line of cmd on its standard error when
// that is a terminal.
func startStatus(cmd *cobra.Command) *status {
	var w io.Writer
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = f
	}
	return newStatus(w, where(cmd), statusDelay, 250*time.Millisecond)
}

// newStatus starts a status line on w (nil for none), first drawn after
// delay and redrawn every tick.
func newStatus(w io.Writer, name string, delay, tick time.Duration) *status {
	s := &status{w: w, name: name, start: time.Now(), quit: make(chan struct{})}
	if w == nil {
		return s
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-s.quit:
			return
		case <-time.After(delay):
		}
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			s.draw()
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Step names what the command does now; rows > 0 is the number of rows
// the step goes through, counted with Add.
func (s *status) Step(step string, rows int) {
	s.mu.Lock()
	s.step, s.total = step, int64(rows)
	s.done.Store(0)
	s.mu.Unlock()
}

// Add counts n more rows of the current step done.
func (s *status) Add(n int) { s.done.Add(int64(n)) }

func (s *status) draw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := fmt.Sprintf("%s: %s", s.name, s.step)
	if s.total > 0 {
		d := min(s.done.Load(), s.total)
		line += fmt.Sprintf(" %d/%d rows (%d%%)", d, s.total, 100*d/s.total)
	}
	line += fmt.Sprintf(" … %.0fs", time.Since(s.start).Seconds())
	fmt.Fprintf(s.w, "\r\033[K%s", line)
	s.shown = true
}

// Stop ends the status line and clears it, so that what the command prints
// next starts on a clean line; it may be called more than once.
func (s *status) Stop() {
	s.once.Do(func() {
		close(s.quit)
		s.wg.Wait()
		if s.shown {
			fmt.Fprint(s.w, "\r\033[K")
		}
	})
}

// rowCounter is an io.Writer that counts the lines written through it as
// rows done: the rows a CSV writer has written so far.
type rowCounter struct {
	w io.Writer
	s *status
}

func (c rowCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	lines := 0
	for _, b := range p[:n] {
		if b == '\n' {
			lines++
		}
	}
	c.s.Add(lines)
	return n, err
}
