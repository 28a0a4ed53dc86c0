package synth

import (
	"math"
	"strconv"
)

// never is the end of an open period: later than any date in the extract.
const never day = math.MaxInt32

// property is one addressable place (a UPRN) of the borough.
type property struct {
	uprn     int64
	ward     int
	ptype    string
	tenure   string
	bedrooms int
	band     int // 0..7 for A..H
	address  string
	postcode string
}

// person is one resident. start and end bound the person's presence in
// their household (inclusive); end is never while present at the end of
// the extract.
type person struct {
	id        string
	given     string
	family    string
	female    bool
	sexKnown  bool
	birth     day
	dobKnown  bool
	eth       string
	disabled  bool
	disab     string
	start     day
	end       day
	death     day
	rel       string
	firstSeen day

	voter    bool
	register string
	library  bool
	branch   int
	urn      int
	sen      int // 0 none, 1 SEN support, 2 EHC plan
}

func (p *person) present(t day) bool { return p.start <= t && t <= p.end }
func (p *person) age(t day) int      { return ageAt(p.birth, t) }

// stay is a household's time at one property.
type stay struct {
	prop     *property
	slot     int // 0 the unit's main property, 1 its second
	from, to day
}

// tenancy is a council tenancy of a household at its main property.
type tenancy struct {
	id          string
	tenants     []*person
	from, to    day
	ttype       string
	startReason string
	endReason   string
}

// escalation is one complex-case escalation of a household: the crisis
// event, its kind and the person it is about.
type escalation struct {
	kind       int // escCP, escLAC, escSafeguarding, escHomeless, escEviction
	at         day
	who        *person
	blockStart day
}

const (
	escCP = iota
	escLAC
	escSafeguarding
	escHomeless
	escEviction
)

// household is a group of people living together at a unit's properties,
// with its hidden state: financial stress (F), vulnerability (V) and
// instability (I), month by month.
type household struct {
	seq      int
	kind     int // hhSingle ... hhShared
	members  []*person
	arrive   day
	depart   day // first day no longer present; never if present at the end
	stays    []stay
	council  bool
	muF      float64
	muV      float64
	muI      float64
	F, V, I  []float32
	car      bool
	vehicle  string
	tenancy  []tenancy
	fraud    *fraudState
	esc      []escalation
	evictAt  day
	pAsOf    float64
	atAsOf   bool
	falseSPD bool
}

const (
	hhSingle = iota
	hhCouple
	hhFamily
	hhElderly
	hhShared
)

// state returns the hidden state (F, V, I) at day t.
func (w *world) state(h *household, t day) (f, v, i float64) {
	k := w.monthIndex(t)
	return float64(h.F[k]), float64(h.V[k]), float64(h.I[k])
}

// monthIndex returns the index of the month of the span holding t, clamped.
func (w *world) monthIndex(t day) int {
	if t <= w.start {
		return 0
	}
	k := int(float64(t-w.start) / 30.436875)
	if k >= len(w.months)-1 {
		k = len(w.months) - 2
	}
	for k > 0 && w.months[k] > t {
		k--
	}
	for k+1 < len(w.months)-1 && w.months[k+1] <= t {
		k++
	}
	return k
}

// where returns the stay of h at day t, or nil when h is not present.
func (h *household) where(t day) *stay {
	for i := range h.stays {
		if h.stays[i].from <= t && t <= h.stays[i].to {
			return &h.stays[i]
		}
	}
	return nil
}

// presentAt returns the members present at t.
func (h *household) presentAt(t day) []*person {
	var out []*person
	for _, p := range h.members {
		if p.present(t) {
			out = append(out, p)
		}
	}
	return out
}

// adultsAt counts the members aged 18 or more present at t.
func (h *household) adultsAt(t day) int {
	n := 0
	for _, p := range h.members {
		if p.present(t) && p.age(t) >= 18 {
			n++
		}
	}
	return n
}

// head returns the oldest adult present at t, or nil.
func (h *household) head(t day) *person {
	var best *person
	for _, p := range h.members {
		if p.present(t) && p.age(t) >= 18 && (best == nil || p.birth < best.birth) {
			best = p
		}
	}
	return best
}

// tenancyAt returns the council tenancy running at t, or nil.
func (h *household) tenancyAt(t day) *tenancy {
	for i := range h.tenancy {
		if h.tenancy[i].from <= t && t <= h.tenancy[i].to {
			return &h.tenancy[i]
		}
	}
	return nil
}

// unitID formats a unit index as the 7-digit stem of its identifiers.
func unitID(u int) string {
	s := strconv.Itoa(u)
	for len(s) < 7 {
		s = "0" + s
	}
	return s
}
