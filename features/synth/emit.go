package synth

import (
	"math"
	"strconv"

	"caserisk/features/contract"
)

// dupRate is the share of event rows written twice, as real extracts hold
// exact duplicates.
const dupRate = 0.005

// row finishes a row of an events file, sometimes writing it twice.
func (s *sink) row(wr *contract.Writer) {
	if wr.WriteRow() == nil && s.r.bern(dupRate) {
		_ = wr.RepeatRow() // a failure is kept in wr.Err and reported by the chunk
	}
}

// in reports whether t lies in the extract's history.
func (s *sink) in(t day) bool { return t >= s.w.start && t <= s.w.end }

// recorded returns the day an event on t entered its source system: mostly
// within days, sometimes months late, never after the extract's end.
func (s *sink) recorded(t day) day {
	r := s.r
	var lag day
	switch x := r.Float64(); {
	case x < 0.85:
		lag = r.between(0, 3)
	case x < 0.97:
		lag = r.between(4, 30)
	default:
		lag = r.between(31, 200)
	}
	return min(t+lag, s.w.end)
}

// uprnOf returns the UPRN of h's home at t (0 when absent).
func uprnOf(h *household, t day) int64 {
	if st := h.where(t); st != nil {
		return st.prop.uprn
	}
	return 0
}

// setUPRN sets an optional uprn column, leaving a share missing.
func (s *sink) setUPRN(wr *contract.Writer, uprn int64, missing float64) {
	if uprn != 0 && !s.r.bern(missing) {
		wr.SetInt("uprn", uprn)
	}
}

// eachMonth calls fn for each month the household is present in the
// history, with the first and last present day of the month.
func (s *sink) eachMonth(h *household, fn func(k int, a, b day)) {
	w := s.w
	for k := w.monthIndex(max(h.arrive, w.start)); k < len(w.months)-1; k++ {
		a, b := max(w.months[k], h.arrive, w.start), min(w.months[k+1]-1, h.depart-1, w.end)
		if a > w.end || a > h.depart-1 {
			break
		}
		if a <= b {
			fn(k, a, b)
		}
	}
}

// emitUnit writes every row of a unit.
func (s *sink) emitUnit(un *unit) {
	for _, p := range un.props {
		s.property(p)
	}
	for _, h := range un.hh {
		for _, p := range h.members {
			s.resident(p)
		}
		s.residences(h)
		cts, hb := s.claims(un, h)
		s.councilTax(un, h, cts)
		if h.council {
			s.tenancies(h)
			s.rentAccount(un, h, hb)
			s.repairs(un, h)
			s.investigations(h)
		}
		s.electoral(un, h)
		s.adultSocialCare(h)
		s.childrensSocialCare(h)
		s.earlyHelp(un, h)
		s.education(h)
		s.homelessness(un, h)
		s.asb(un, h)
		s.parking(un, h)
		s.libraries(h)
		s.environmental(un, h)
		s.youthOffending(h)
		s.debts(un, h)
		s.oracle(h)
		if h.fraud != nil {
			for _, p := range h.fraud.subtenants {
				s.resident(p)
			}
		}
	}
	s.oneSystemPeople(un)
}

func (s *sink) property(p *property) {
	wr := s.writers["properties"]
	wr.SetInt("uprn", p.uprn)
	wr.SetString("address", p.address)
	wr.SetString("postcode", p.postcode)
	wr.SetCode("ward", contract.Wards()[p.ward])
	wr.SetCode("property_type", p.ptype)
	wr.SetCode("tenure", p.tenure)
	if !s.r.bern(0.02) {
		wr.SetInt("bedrooms", int64(p.bedrooms))
	}
	wr.SetCode("council_tax_band", string(rune('A'+p.band)))
	_ = wr.WriteRow()
}

func (s *sink) resident(p *person) {
	wr := s.writers["residents"]
	wr.SetString("resident_id", p.id)
	wr.SetString("given_name", p.given)
	wr.SetString("family_name", p.family)
	if p.dobKnown {
		wr.SetDate("date_of_birth", p.birth)
	}
	if p.sexKnown {
		if p.female {
			wr.SetCode("sex", "F")
		} else {
			wr.SetCode("sex", "M")
		}
	}
	wr.SetCode("ethnic_group", p.eth)
	wr.SetCode("disability", p.disab)
	wr.SetDate("first_seen_date", p.firstSeen)
	if p.death <= s.w.end && p.death <= p.end { // a death after leaving the borough is not known
		rec := p.death + s.r.between(1, 60)
		if rec <= s.w.end {
			wr.SetDate("date_of_death", p.death)
			wr.SetDate("death_recorded_date", rec)
		}
	}
	_ = wr.WriteRow()
}

func (s *sink) residences(h *household) {
	wr := s.writers["residences"]
	for _, p := range h.members {
		for _, st := range h.stays {
			from, to := max(p.start, st.from), min(p.end, st.to)
			if from > to || from > s.w.end {
				continue
			}
			wr.SetString("resident_id", p.id)
			wr.SetInt("uprn", st.prop.uprn)
			wr.SetDate("start_date", from)
			if to <= s.w.end {
				wr.SetDate("end_date", to)
			}
			if !s.r.bern(0.04) {
				wr.SetCode("relationship", p.rel)
			}
			s.row(wr)
		}
	}
}

// claim is a period of council tax support or housing benefit.
type claim struct {
	id       string
	from, to day
	weekly   float64
}

// claims draws the household's council tax support and housing benefit
// claims from its financial stress, quarter by quarter, and writes them.
func (s *sink) claims(un *unit, h *household) (cts, hb []claim) {
	w, r := s.w, s.r
	renter := un.props[0].tenure != "owner_occupied"
	var open [2]*claim
	var lists [2][]claim
	for k := w.monthIndex(max(h.arrive, w.start)); k < len(w.months)-1; k += 3 {
		t := max(w.months[k], h.arrive)
		if t > min(h.depart-1, w.end) {
			break
		}
		f := float64(h.F[k])
		for i := 0; i < 2; i++ {
			if i == 1 && !renter {
				continue
			}
			switch {
			case open[i] == nil && f > 0.55+0.2*float64(i):
				from := t
				if k == w.monthIndex(max(h.arrive, w.start)) && h.arrive < w.start && r.bern(0.7) {
					from = h.arrive + r.between(0, max(0, w.start-h.arrive))
				}
				c := &claim{id: []string{"CTS", "HB"}[i] + un.id + strconv.Itoa(h.seq) + strconv.Itoa(len(lists[i])+1), from: from, to: never}
				if i == 0 {
					c.weekly = math.Round((12+14*clampF(f, 0, 2))*100) / 100
				} else {
					c.weekly = math.Round((60+70*clampF(f, 0, 2)+float64(un.props[0].bedrooms)*15)*100) / 100
				}
				open[i] = c
			case open[i] != nil && f < 0.1:
				open[i].to = t
				lists[i] = append(lists[i], *open[i])
				open[i] = nil
			}
		}
	}
	for i := 0; i < 2; i++ {
		if open[i] != nil {
			if h.depart-1 <= w.end {
				open[i].to = h.depart - 1
			}
			lists[i] = append(lists[i], *open[i])
		}
	}
	size := func(t day) int64 { return int64(len(h.presentAt(t))) }
	band := func(t day) string {
		f, _, _ := w.state(h, t)
		return []string{"E", "D", "C", "B", "A"}[int(clampF(f+0.5, 0, 4))]
	}
	for i, svc := range []string{"council_tax_support", "housing_benefit"} {
		wr := s.writers[svc]
		for _, c := range lists[i] {
			hd := h.head(max(c.from, h.arrive))
			if hd == nil {
				continue
			}
			emit := func(t day, ev string, award float64) {
				u := uprnOf(h, min(t, h.depart-1))
				if !s.in(t) || t > hd.end || u == 0 {
					return
				}
				wr.SetString("resident_id", hd.id)
				wr.SetInt("uprn", u)
				wr.SetString("claim_id", c.id)
				wr.SetDate("event_date", t)
				wr.SetCode("event_type", ev)
				if !r.bern(0.03) {
					wr.SetInt("household_size", size(t))
				}
				if i == 0 && !r.bern(0.05) {
					wr.SetCode("income_band", band(t))
				}
				if award >= 0 {
					wr.SetFloat("weekly_award_gbp", award, 2)
				}
				if ev == "overpayment" {
					wr.SetFloat("overpayment_gbp", award*float64(r.intn(3, 30)), 2)
				}
				s.row(wr)
			}
			emit(c.from, "claim", -1)
			emit(c.from+r.between(7, 35), "award", c.weekly)
			for y, _, _ := civil(c.from); ; y++ {
				t := fromCivil(y+1, 4, 1)
				if t >= c.to || t > w.end {
					break
				}
				c.weekly = math.Round(c.weekly*1.04*100) / 100
				emit(t, "change", c.weekly)
				if r.bern(0.05) {
					emit(t+r.between(30, 300), "suspension", 0)
				}
				if i == 1 && r.bern(0.08) {
					emit(t+r.between(30, 300), "overpayment", c.weekly)
				}
			}
			if c.to <= w.end {
				emit(c.to, "termination", 0)
			}
		}
	}
	return lists[0], lists[1]
}

// onClaim returns the weekly award of the claim running at t, or 0.
func onClaim(cs []claim, t day) float64 {
	for _, c := range cs {
		if c.from <= t && t <= c.to {
			return c.weekly
		}
	}
	return 0
}

var bandRatio = []float64{6, 7, 8, 9, 11, 13, 15, 18}

// councilTax writes each stay's council tax account: liability, discounts,
// quarterly payments or missed payments, and recovery.
func (s *sink) councilTax(un *unit, h *household, cts []claim) {
	w, r := s.w, s.r
	wr := s.writers["council_tax"]
	for si, st := range h.stays {
		acct := "CT" + un.id + strconv.Itoa(h.seq) + strconv.Itoa(si)
		annual := 1900 * bandRatio[st.prop.band] / 9
		bal := 0.0
		discount := func(t day) string {
			n := h.adultsAt(t)
			switch {
			case n <= 1 || h.falseSPD:
				return "single_person"
			case h.kind == hhShared && n > 1 && st.prop.tenure == "private_rented" && un.idx%3 == 0:
				return "student"
			}
			return "none"
		}
		emit := func(t day, ev, disc string, amount float64, setAmount bool) {
			hd := h.head(t)
			if hd == nil || !s.in(t) {
				return
			}
			wr.SetString("resident_id", hd.id)
			wr.SetInt("uprn", st.prop.uprn)
			wr.SetString("account_id", acct)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", ev)
			if disc != "" {
				wr.SetCode("discount", disc)
			}
			if setAmount {
				wr.SetFloat("amount_gbp", amount, 2)
			}
			wr.SetFloat("balance_gbp", bal, 2)
			s.row(wr)
		}
		disc := discount(max(st.from, w.start))
		if st.from >= w.start {
			emit(st.from, "liability_start", disc, annual, true)
		}
		last := min(st.to, w.end)
		for k := w.monthIndex(max(st.from, w.start)); k < len(w.months)-1; k++ {
			q := w.months[k]
			if q > last {
				break
			}
			if _, m, _ := civil(q); m%3 != 1 || q < st.from {
				continue
			}
			if d := discount(q); d != disc {
				disc = d
				emit(q, "discount_change", disc, 0, false)
			}
			due := annual / 4
			if disc == "single_person" {
				due *= 0.75
			}
			if aw := onClaim(cts, q); aw > 0 {
				due = math.Max(0, due-aw*13)
			}
			due = math.Round(due*100) / 100
			if due < 1 && bal <= 0 {
				continue // fully covered by council tax support
			}
			f := float64(h.F[k])
			if r.bern(sigmoid(2.8 - 1.5*f)) {
				pay := due
				if bal > 0 {
					pay += math.Round(bal*0.5*100) / 100
				}
				bal -= pay - due
				emit(q+r.between(0, 20), "payment", "", pay, true)
				continue
			}
			bal += due
			emit(q+r.between(10, 20), "missed_payment", "", due, true)
			emit(q+r.between(21, 35), "reminder", "", 0, false)
			if bal > 1.5*due && r.bern(0.6) {
				bal += 70
				emit(q+r.between(40, 60), "summons", "", 70, true)
				if bal > 2.5*due && r.bern(0.5) {
					emit(q+r.between(61, 85), "liability_order", "", bal, true)
				}
			}
		}
		if st.to <= w.end {
			emit(st.to, "liability_end", "", 0, false)
		}
	}
}

func (s *sink) tenancies(h *household) {
	wr := s.writers["tenancies"]
	for _, tn := range h.tenancy {
		for _, p := range tn.tenants {
			wr.SetString("tenancy_id", tn.id)
			wr.SetString("resident_id", p.id)
			wr.SetInt("uprn", h.stays[0].prop.uprn)
			wr.SetDate("start_date", tn.from)
			if tn.to <= s.w.end {
				wr.SetDate("end_date", tn.to)
				if tn.endReason != "" && !s.r.bern(0.05) {
					wr.SetCode("end_reason", tn.endReason)
				}
			}
			wr.SetCode("tenancy_type", tn.ttype)
			wr.SetBool("joint", len(tn.tenants) > 1)
			wr.SetCode("start_reason", tn.startReason)
			wr.SetDate("recorded_date", s.recorded(tn.from))
			s.row(wr)
		}
	}
}

// rentAccount writes monthly charges and payments of each council tenancy,
// arrears recovery, and the steps to an eviction.
func (s *sink) rentAccount(un *unit, h *household, hb []claim) {
	w, r := s.w, s.r
	wr := s.writers["rent_account"]
	p0 := un.props[0]
	weekly := 92 + 16*float64(p0.bedrooms) + float64(un.idx%7)*2.5
	monthly := math.Round(weekly*52/12*100) / 100
	for ti, tn := range h.tenancy {
		bal := 0.0
		if tn.from < w.start {
			bal = math.Round(monthly*(r.Float64()-0.6)*100) / 100
		}
		tenant := tn.tenants[0]
		var evictee *person
		emit := func(t day, ev, method string, amount float64) {
			if !s.in(t) {
				return
			}
			wr.SetString("tenancy_id", tn.id)
			if evictee != nil {
				wr.SetString("resident_id", evictee.id)
			} else {
				wr.SetString("resident_id", tenant.id)
			}
			wr.SetInt("uprn", p0.uprn)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", ev)
			if method != "" && !r.bern(0.02) {
				wr.SetCode("payment_method", method)
			}
			wr.SetFloat("amount_gbp", amount, 2)
			wr.SetFloat("balance_gbp", bal, 2)
			s.row(wr)
		}
		method := []string{"direct_debit", "standing_order", "card", "cash", "bank_transfer"}[r.pick(40, 15, 25, 10, 10)]
		var evict day
		if h.evictAt != 0 && tn.from <= h.evictAt && h.evictAt <= tn.to {
			evict = h.evictAt
		}
		var lastLetter day
		yearly := onClaim(hb, tn.from) == 0 && r.bern(0.04)
		for k := w.monthIndex(max(tn.from, w.start)); k < len(w.months)-1; k++ {
			m := w.months[k]
			if m > min(tn.to, w.end) {
				break
			}
			if m < tn.from {
				continue
			}
			bal += monthly
			emit(m, "charge", "", monthly)
			fraud := h.fraudAt(ti, m)
			absent := m >= h.depart // a deceased tenant's home under false succession
			f := float64(h.F[k])
			switch {
			case (fraud || absent) && h.fraud != nil && h.fraud.advance:
				if bal > 0 {
					pay := monthly * float64(r.intn(6, 12))
					bal -= pay
					emit(m+r.between(1, 10), "payment", []string{"card", "bank_transfer", "cash"}[r.pick(4, 4, 2)], pay)
				}
			case fraud || absent:
				if r.bern(0.7) {
					bal -= monthly
					emit(m+r.between(1, 25), "payment", []string{"cash", "card"}[r.pick(1, 1)], monthly)
				}
			case yearly:
				// Some honest tenants pay the year's rent in advance.
				if _, mo, _ := civil(m); mo == 4 || bal > monthly {
					pay := math.Round(monthly*12*100) / 100
					bal -= pay
					emit(m+r.between(1, 10), "payment", "bank_transfer", pay)
				}
			default:
				hbPart := 0.0
				if aw := onClaim(hb, m); aw > 0 && !(evict != 0 && m > evict-200) {
					hbPart = math.Min(monthly, math.Round(aw*52/12*100)/100)
					bal -= hbPart
					emit(m+r.between(3, 10), "payment", "housing_benefit", hbPart)
				}
				rest := monthly - hbPart
				payP := sigmoid(2.6 - 1.8*f)
				if evict != 0 && m > evict-200 {
					payP = 0.1
				}
				if rest > 0 && r.bern(payP) {
					pay := rest
					if bal > rest && r.bern(0.4) {
						pay = math.Round((rest+(bal-rest)*0.3)*100) / 100
					}
					bal -= pay
					emit(m+r.between(1, 20), "payment", method, pay)
				}
			}
			bal = math.Round(bal*100) / 100
			if evict == 0 || m < evict-200 {
				switch {
				case bal > 4*monthly && r.bern(0.15):
					emit(m+r.between(10, 25), "court_order", "", 0)
				case bal > 2.5*monthly && r.bern(0.25):
					emit(m+r.between(10, 25), "notice_seeking_possession", "", 0)
				case bal > monthly && m-lastLetter > 60 && r.bern(0.5):
					lastLetter = m
					emit(m+r.between(10, 25), "arrears_letter", "", 0)
				}
			}
		}
		if evict != 0 {
			var bs day
			for _, e := range h.esc {
				if e.kind == escEviction {
					bs, evictee = e.blockStart, e.who
				}
			}
			at := func(lo, hi day) day { return max(bs+1, evict-r.between(lo, hi)) }
			emit(at(100, 150), "arrears_letter", "", 0)
			emit(at(60, 90), "notice_seeking_possession", "", 0)
			emit(at(20, 40), "court_order", "", 0)
			emit(evict, "eviction", "", 0)
		}
	}
}

// repairs writes repair jobs at council homes; a home not lived in by its
// tenant (fraud, or a deceased tenant) almost never reports one.
func (s *sink) repairs(un *unit, h *household) {
	w, r := s.w, s.r
	wr := s.writers["repairs"]
	n := 0
	for ti, tn := range h.tenancy {
		for k := w.monthIndex(max(tn.from, w.start)); k < len(w.months)-1; k++ {
			m := w.months[k]
			if m > min(tn.to, w.end) {
				break
			}
			rate := 1.4 * math.Exp(0.25*float64(h.V[k])) / 12
			if h.fraudAt(ti, m) || m >= h.depart {
				rate *= 0.06
			}
			for j := r.poisson(rate); j > 0; j-- {
				t := r.between(max(m, tn.from), min(w.months[k+1]-1, tn.to, w.end))
				who := h.head(min(t, h.depart-1))
				if who == nil {
					who = tn.tenants[0]
				}
				n++
				id := "J" + un.id + strconv.Itoa(h.seq) + strconv.Itoa(n)
				trade := []string{"plumbing", "electrical", "carpentry", "damp_mould", "heating", "roofing", "general"}[r.pick(20, 12, 12, 10+10*math.Max(0, float64(h.V[k])), 14, 4, 28)]
				prio := []string{"emergency", "urgent", "routine"}[r.pick(10, 30, 60)]
				emit := func(t day, ev string) {
					if !s.in(t) {
						return
					}
					wr.SetString("repair_id", id)
					wr.SetString("resident_id", who.id)
					wr.SetInt("uprn", un.props[0].uprn)
					wr.SetDate("event_date", t)
					wr.SetCode("event_type", ev)
					if !r.bern(0.03) {
						wr.SetCode("trade", trade)
					}
					if !r.bern(0.05) {
						wr.SetCode("priority", prio)
					}
					s.row(wr)
				}
				emit(t, "reported")
				v := t + r.between(1, 20)
				if r.bern(0.08 + 0.1*math.Max(0, float64(h.I[k]))) {
					emit(v, "no_access")
					v += r.between(3, 20)
				}
				emit(v, "visit")
				if r.bern(0.9) {
					emit(v+r.between(0, 30), "completed")
				}
			}
		}
	}
}

func (s *sink) investigations(h *household) {
	if h.fraud == nil {
		return
	}
	wr := s.writers["fraud_investigations"]
	for _, inv := range h.fraud.investigations {
		wr.SetString("investigation_id", inv.id)
		wr.SetString("tenancy_id", inv.tenancy.id)
		wr.SetString("resident_id", inv.who.id)
		wr.SetInt("uprn", h.stays[0].prop.uprn)
		wr.SetDate("referral_date", inv.referral)
		wr.SetCode("referral_source", inv.source)
		if inv.closed <= s.w.end {
			wr.SetDate("closed_date", inv.closed)
			wr.SetCode("outcome", inv.outcome)
		}
		if !s.r.bern(0.05) {
			wr.SetCode("fraud_type", inv.alleged)
		}
		s.row(wr)
	}
}

// register writes one electoral registration.
func (s *sink) register(p *person, uprn int64, from, to day) {
	if from > to || from > s.w.end {
		return
	}
	wr := s.writers["electoral_register"]
	wr.SetString("resident_id", p.id)
	wr.SetInt("uprn", uprn)
	wr.SetDate("registered_from", from)
	if to <= s.w.end {
		wr.SetDate("registered_to", to)
	}
	if !s.r.bern(0.03) {
		wr.SetCode("register", p.register)
	}
	wr.SetDate("recorded_date", min(from+s.r.between(0, 45), s.w.end))
	s.row(wr)
}

// electoral writes the household's registrations; a tenant committing
// fraud stops being registered at the home, and subtenants appear there.
func (s *sink) electoral(un *unit, h *household) {
	r := s.r
	for _, p := range h.members {
		if !p.voter {
			continue
		}
		adult := p.birth + 18*365 + 5
		for _, st := range h.stays {
			from, to := max(p.start, st.from, adult)+r.between(0, 40), min(p.end, st.to)
			if f := h.fraud; f != nil && f.kind != "" && f.kind != "false_succession" && st.slot == 0 && p == h.tenancy[f.tenancy].tenants[0] && f.from < to {
				moved := f.from + r.between(30, 180)
				if moved < to && r.bern(0.55) {
					to = moved
					if f.elsewhere != nil {
						s.register(p, f.elsewhere.uprn, moved+1, min(f.until, p.end))
					}
				}
			}
			s.register(p, st.prop.uprn, from, to)
		}
	}
	if h.fraud != nil {
		for _, sp := range h.fraud.subtenants {
			if r.bern(0.5) {
				s.register(sp, un.props[0].uprn, sp.start, h.fraud.until-1)
			}
		}
	}
	// Now and then an adult the index never matched (a lodger, a relative
	// staying a while) registers at an honest household's home.
	if st := h.stays[0]; h.fraud == nil && r.bern(0.1) && st.from+60 < min(st.to, s.w.end) {
		from := r.between(max(st.from, s.w.start-3*365), min(st.to, s.w.end)-30)
		p := s.w.newPerson(un, from-day(r.intn(19, 60)*365), r.bern(0.5), family[r.IntN(len(family))], "not_recorded")
		p.start, p.firstSeen, p.disab, p.dobKnown = from, from, "not_recorded", false
		to := from + r.between(90, 1500)
		if to > st.to {
			to = st.to
		}
		s.register(p, st.prop.uprn, from, to)
		s.resident(p)
	}
}

// eventRow writes a person-level event row for files with resident_id,
// optional uprn, event_date, event_type and possibly recorded_date.
func (s *sink) eventRow(svc string, p *person, uprn int64, t day, ev string, set func(*contract.Writer)) {
	if !s.in(t) {
		return
	}
	wr := s.writers[svc]
	wr.SetString("resident_id", p.id)
	if _, ok := wr.File().Column("uprn"); ok {
		s.setUPRN(wr, uprn, 0.08)
	}
	wr.SetDate("event_date", t)
	wr.SetCode("event_type", ev)
	if _, ok := wr.File().Column("recorded_date"); ok {
		wr.SetDate("recorded_date", s.recorded(t))
	}
	if set != nil {
		set(wr)
	}
	s.row(wr)
}

// personMonths calls fn for each month of the history a member is present,
// with the month index and the present days of the month.
func (s *sink) personMonths(h *household, p *person, fn func(k int, a, b day)) {
	s.eachMonth(h, func(k int, a, b day) {
		a, b = max(a, p.start), min(b, p.end)
		if a <= b {
			fn(k, a, b)
		}
	})
}

func (s *sink) adultSocialCare(h *household) {
	r := s.r
	for _, p := range h.members {
		reason := []string{"physical", "sensory", "memory_cognition", "learning_disability", "mental_health", "social_isolation"}[r.pick(40, 8, 15, 10, 20, 7)]
		set := func(wr *contract.Writer) {
			if !r.bern(0.1) {
				wr.SetCode("support_reason", reason)
			}
		}
		s.personMonths(h, p, func(k int, a, b day) {
			age := p.age(a)
			if age < 18 || (age < 65 && !p.disabled) {
				return
			}
			v := float64(h.V[k])
			rate := 0.12 * math.Exp(0.9*v)
			if age >= 80 {
				rate *= 2
			}
			for j := r.poisson(rate / 12); j > 0; j-- {
				t := r.between(a, b)
				s.eventRow("adult_social_care", p, uprnOf(h, t), t, "contact", set)
				if r.bern(0.5) {
					t2 := t + r.between(7, 40)
					s.eventRow("adult_social_care", p, uprnOf(h, t2), t2, "assessment", set)
					if r.bern(0.45) {
						t3 := t2 + r.between(14, 60)
						s.eventRow("adult_social_care", p, uprnOf(h, t3), t3, "service_start", set)
						if end := t3 + r.between(60, 900); end <= p.end {
							s.eventRow("adult_social_care", p, uprnOf(h, end), end, "service_end", set)
						}
					}
				}
			}
			if r.bern(0.02 / 12 * math.Exp(v)) {
				t := r.between(a, b)
				s.eventRow("adult_social_care", p, uprnOf(h, t), t, "carer_assessment", set)
			}
			if r.bern(0.03 / 12 * math.Exp(v)) {
				t := r.between(a, b)
				s.eventRow("adult_social_care", p, uprnOf(h, t), t, "safeguarding_concern", set)
			}
		})
	}
	for _, e := range h.esc {
		if e.kind != escSafeguarding {
			continue
		}
		set := func(wr *contract.Writer) {
			wr.SetCode("support_reason", []string{"physical", "memory_cognition", "mental_health"}[r.pick(1, 1, 1)])
		}
		c := max(e.blockStart+1, e.at-r.between(3, 30))
		s.eventRow("adult_social_care", e.who, uprnOf(h, c), c, "safeguarding_concern", set)
		s.eventRow("adult_social_care", e.who, uprnOf(h, e.at), e.at, "safeguarding_enquiry", set)
	}
}

var needCodes = []string{"abuse_neglect", "disability", "parental_illness", "family_acute_stress", "family_dysfunction", "socially_unacceptable_behaviour", "low_income", "absent_parenting", "not_stated"}

// needSetter returns a setter for children's need_code, written with the
// legacy N1–N9 codes in most rows before the 2023 code-list change.
func (s *sink) needSetter(t day, need int) func(*contract.Writer) {
	r := s.r
	return func(wr *contract.Writer) {
		switch {
		case r.bern(0.08):
		case t < s.w.legacyUntil && r.bern(0.75):
			wr.SetCode("need_code", "N"+strconv.Itoa(need+1))
		default:
			wr.SetCode("need_code", needCodes[need])
		}
	}
}

func (s *sink) childrensSocialCare(h *household) {
	r := s.r
	for _, p := range h.members {
		s.personMonths(h, p, func(k int, a, b day) {
			if p.age(a) >= 18 {
				return
			}
			rate := 0.06 * math.Exp(0.9*float64(h.V[k])+0.4*float64(h.F[k]))
			for j := r.poisson(rate / 12); j > 0; j-- {
				t := r.between(a, b)
				need := r.pick(45, 8, 8, 12, 12, 5, 4, 3, 3)
				ev := func(t day, e string) {
					s.eventRow("childrens_social_care", p, uprnOf(h, min(t, h.depart-1)), t, e, s.needSetter(t, need))
				}
				ev(t, "contact")
				if !r.bern(0.35) {
					continue
				}
				t += r.between(2, 20)
				ev(t, "referral")
				if !r.bern(0.85) {
					continue
				}
				t += r.between(10, 45)
				ev(t, "assessment")
				if r.bern(0.4) {
					ev(t+r.between(1, 10), "child_in_need")
				}
				if r.bern(0.15) {
					ev(t+r.between(1, 20), "child_protection_enquiry")
				}
			}
		})
	}
	for _, e := range h.esc {
		if e.kind != escCP && e.kind != escLAC {
			continue
		}
		need := r.pick(60, 2, 8, 10, 15, 1, 2, 2, 0)
		at := func(lo, hi day) day { return max(e.blockStart+1, e.at-r.between(lo, hi)) }
		ev := func(t day, ev string) {
			s.eventRow("childrens_social_care", e.who, uprnOf(h, min(t, h.depart-1)), t, ev, s.needSetter(t, need))
		}
		ev(at(60, 90), "contact")
		ev(at(45, 59), "referral")
		ev(at(25, 44), "assessment")
		ev(at(5, 24), "child_protection_enquiry")
		if e.kind == escCP {
			ev(e.at, "child_protection_plan")
		} else {
			ev(e.at, "looked_after")
		}
	}
}

func (s *sink) earlyHelp(un *unit, h *household) {
	r := s.r
	n := 0
	s.eachMonth(h, func(k int, a, b day) {
		var kids []*person
		for _, p := range h.members {
			if p.present(a) && p.age(a) < 18 {
				kids = append(kids, p)
			}
		}
		if len(kids) == 0 || !r.bern(0.05/12*math.Exp(0.8*float64(h.V[k])+0.4*float64(h.F[k]))) {
			return
		}
		t := r.between(a, b)
		child := kids[r.IntN(len(kids))]
		n++
		id := "EH" + un.id + strconv.Itoa(h.seq) + strconv.Itoa(n)
		emit := func(t day, ev, reason string) {
			if !s.in(t) {
				return
			}
			wr := s.writers["early_help"]
			wr.SetString("episode_id", id)
			wr.SetString("resident_id", child.id)
			s.setUPRN(wr, uprnOf(h, min(t, h.depart-1)), 0.05)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", ev)
			if reason != "" {
				wr.SetCode("closure_reason", reason)
			}
			s.row(wr)
		}
		emit(t, "episode_start", "")
		end := t + r.between(60, 300)
		reason := []string{"needs_met", "disengaged", "stepped_up", "moved_away"}[r.pick(60, 22, 10, 8)]
		for _, e := range h.esc {
			if (e.kind == escCP || e.kind == escLAC) && e.at > t && e.at < end+60 {
				reason, end = "stepped_up", min(end, e.at)
			}
		}
		if end >= h.depart {
			end, reason = h.depart-1, "moved_away"
		}
		emit(end, "episode_end", reason)
	})
}

func (s *sink) education(h *household) {
	w, r := s.w, s.r
	wr := s.writers["education"]
	sy, _, _ := civil(w.start)
	ey, _, _ := civil(w.end)
	for _, p := range h.members {
		if p.start > w.end || p.age(w.start) > 17 && p.age(w.end) > 17 {
			continue
		}
		first := true
		row := func(t day, ev string, set func()) {
			if !s.in(t) {
				return
			}
			wr.SetString("resident_id", p.id)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", ev)
			if set != nil {
				set()
			}
			if !r.bern(0.02) {
				wr.SetString("school_urn", strconv.Itoa(p.urn))
			}
			s.row(wr)
		}
		for y := sy; y <= ey; y++ {
			for _, te := range []day{fromCivil(y, 3, 29), fromCivil(y, 7, 21), fromCivil(y, 12, 18)} {
				if !s.in(te) || !p.present(te) || te >= h.depart {
					continue
				}
				a := p.age(te)
				if a < 5 || a > 16 {
					continue
				}
				f, v, i := w.state(h, te)
				if first {
					first = false
					if p.sen == 1 {
						row(te, "sen_support", nil)
					} else if p.sen == 2 {
						row(te, "ehc_plan", nil)
					}
				}
				absent := clampF(math.Exp(1.2+0.35*v+0.4*i+0.35*r.NormFloat64()), 0, 70)
				missed := int64(math.Round(absent * 1.3))
				row(te, "attendance", func() {
					if !r.bern(0.01) {
						wr.SetFloat("attendance_pct", math.Round((100-absent)*10)/10, 1)
					}
					wr.SetInt("sessions_missed", missed)
				})
				if _, m, _ := civil(te); m == 12 && f > 0.6 {
					row(te-r.between(60, 90), "free_school_meals", nil)
				}
				if a >= 8 && r.bern(1-math.Exp(-0.03/3*math.Exp(1.0*i+0.4*v))) {
					row(te-r.between(5, 80), "suspension", nil)
				}
				if a >= 11 && r.bern(0.002/3*math.Exp(1.2*i)) {
					row(te-r.between(5, 80), "permanent_exclusion", nil)
				}
			}
		}
	}
}

var homelessReasons = []string{"family_or_friends_evicting", "end_of_private_tenancy", "domestic_abuse", "rent_arrears", "relationship_breakdown", "other"}

func (s *sink) homelessness(un *unit, h *household) {
	r := s.r
	n := 0
	tf := byTenure(un.props[0].tenure, 0.6, 0.8, 2, 0.3)
	emitCase := func(p *person, steps []day, evs []string, reason string) {
		n++
		id := "HL" + un.id + strconv.Itoa(h.seq) + strconv.Itoa(n)
		for i, t := range steps {
			if !s.in(t) {
				continue
			}
			wr := s.writers["homelessness"]
			wr.SetString("case_id", id)
			wr.SetString("resident_id", p.id)
			s.setUPRN(wr, uprnOf(h, min(t, h.depart-1)), 0.1)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", evs[i])
			if !r.bern(0.08) {
				wr.SetCode("reason", reason)
			}
			wr.SetDate("recorded_date", s.recorded(t))
			s.row(wr)
		}
	}
	reasonFor := func() string {
		if un.props[0].tenure == "private_rented" {
			return homelessReasons[r.pick(20, 40, 10, 10, 12, 8)]
		}
		return homelessReasons[r.pick(35, 5, 20, 15, 17, 8)]
	}
	s.eachMonth(h, func(k int, a, b day) {
		if !r.bern(0.02 / 12 * tf * math.Exp(1.0*float64(h.I[k])+0.6*float64(h.F[k]))) {
			return
		}
		t := r.between(a, b)
		p := h.head(t)
		if p == nil {
			return
		}
		steps, evs := []day{t}, []string{"approach"}
		if r.bern(0.7) {
			steps, evs = append(steps, t+r.between(1, 14)), append(evs, "prevention_duty")
		}
		if r.bern(0.25) {
			steps, evs = append(steps, t+r.between(30, 60)), append(evs, "relief_duty")
		}
		steps, evs = append(steps, t+r.between(70, 200)), append(evs, "discharge")
		emitCase(p, steps, evs, reasonFor())
	})
	for _, e := range h.esc {
		if e.kind != escHomeless {
			continue
		}
		at := func(lo, hi day) day { return max(e.blockStart+1, e.at-r.between(lo, hi)) }
		be := addMonths(e.blockStart, 12)
		steps := []day{at(60, 90), at(45, 59), at(5, 30), e.at}
		evs := []string{"approach", "prevention_duty", "relief_duty", "main_duty"}
		if r.bern(0.7) {
			steps, evs = append(steps, min(be, e.at+r.between(0, 10))), append(evs, "temporary_accommodation")
		}
		emitCase(e.who, steps, evs, reasonFor())
	}
}

var asbCodes = []string{"noise", "harassment", "drugs", "vandalism", "violence", "nuisance_neighbour", "other"}
var asbLegacy = []string{"NOISE", "HARASS", "DRUG", "CRIMDAM", "VIOL", "NEIGH", "OTH"}

func (s *sink) asb(un *unit, h *household) {
	r := s.r
	n := 0
	s.eachMonth(h, func(k int, a, b day) {
		i := float64(h.I[k])
		if !r.bern(0.07 / 12 * math.Exp(0.8*i)) {
			return
		}
		t := r.between(a, b)
		var cands []*person
		for _, p := range h.members {
			if p.present(t) && p.age(t) >= 12 {
				cands = append(cands, p)
			}
		}
		if len(cands) == 0 {
			return
		}
		p := cands[r.IntN(len(cands))]
		n++
		wr := s.writers["anti_social_behaviour"]
		wr.SetString("incident_id", "ASB"+un.id+strconv.Itoa(h.seq)+strconv.Itoa(n))
		wr.SetString("resident_id", p.id)
		s.setUPRN(wr, uprnOf(h, t), 0.15)
		wr.SetDate("event_date", t)
		role := "perpetrator"
		if !r.bern(sigmoid(-1.6 + i)) {
			role = []string{"victim", "witness", "reporter"}[r.pick(50, 15, 35)]
		}
		wr.SetCode("role", role)
		c := r.pick(30, 15, 12, 10, 6, 20, 7)
		if t < s.w.legacyUntil && r.bern(0.7) {
			wr.SetCode("category", asbLegacy[c])
		} else {
			wr.SetCode("category", asbCodes[c])
		}
		s.row(wr)
	})
}

// debt is a sundry debt raised by another service or on its own.
type debt struct {
	at     day
	kind   string
	amount float64
}

func (s *sink) parking(un *unit, h *household) {
	w, r := s.w, s.r
	if !h.car {
		return
	}
	emit := func(p *person, uprn int64, t day, ev string, amount float64) {
		if !s.in(t) {
			return
		}
		wr := s.writers["parking"]
		wr.SetString("resident_id", p.id)
		s.setUPRN(wr, uprn, 0.03)
		wr.SetDate("event_date", t)
		wr.SetCode("event_type", ev)
		if !r.bern(0.02) {
			wr.SetString("vehicle_id", h.vehicle)
		}
		wr.SetFloat("amount_gbp", amount, 2)
		s.row(wr)
	}
	fee := 120 + float64(un.idx%5)*20
	for _, st := range h.stays {
		hd := h.head(st.from)
		if hd == nil {
			continue
		}
		uprn := st.prop.uprn
		issued := st.from + r.between(0, 60)
		emit(hd, uprn, issued, "permit_issued", fee)
		last := min(st.to, hd.end)
		for t := addMonths(issued, 12); t <= min(last, w.end); t = addMonths(t, 12) {
			u := uprn
			if f := h.fraud; f != nil && f.kind == "non_occupation" && f.elsewhere != nil && st.slot == 0 && t > f.from && t < f.until {
				u = f.elsewhere.uprn
			}
			emit(hd, u, t, "permit_renewed", fee)
		}
		if last <= w.end {
			emit(hd, uprn, last, "permit_cancelled", 0)
		}
	}
	s.eachMonth(h, func(k int, a, b day) {
		if !r.bern(0.45 / 12) {
			return
		}
		t := r.between(a, b)
		p := h.head(t)
		if p == nil {
			return
		}
		emit(p, uprnOf(h, t), t, "pcn_issued", 130)
		if r.bern(sigmoid(1.8 - float64(h.F[k]))) {
			emit(p, uprnOf(h, t), t+r.between(1, 14), "pcn_paid", 65)
		} else {
			emit(p, uprnOf(h, t), t+r.between(56, 90), "pcn_escalated", 195)
		}
	})
}

func (s *sink) libraries(h *household) {
	w, r := s.w, s.r
	for _, p := range h.members {
		if !p.library {
			continue
		}
		joined := false
		branch := libraryBranches[p.branch]
		emit := func(t day, ev string) {
			if !s.in(t) {
				return
			}
			wr := s.writers["libraries"]
			wr.SetString("resident_id", p.id)
			s.setUPRN(wr, uprnOf(h, t), 0.1)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", ev)
			if !r.bern(0.04) {
				wr.SetCode("branch", branch)
			}
			s.row(wr)
		}
		s.personMonths(h, p, func(k int, a, b day) {
			if !joined {
				if p.start >= w.start || r.bern(0.02) {
					joined = true
					emit(r.between(a, b), "join")
				}
				if !joined && p.start >= w.start {
					return
				}
				joined = true
			}
			age := p.age(a)
			loans := 2.5
			if age < 12 {
				loans = 4
			}
			for j := r.poisson(loans / 12); j > 0; j-- {
				t := r.between(a, b)
				emit(t, "loan")
				if r.bern(0.3) {
					emit(min(t+r.between(14, 28), b), "renewal")
				}
			}
			if age >= 16 && r.bern(0.5/12*math.Exp(0.5*float64(h.F[k]))) {
				emit(r.between(a, b), "computer_session")
			}
			if age < 12 && r.bern(0.8/12) {
				emit(r.between(a, b), "event_attendance")
			}
		})
	}
}

func (s *sink) environmental(un *unit, h *household) {
	r := s.r
	n := 0
	s.eachMonth(h, func(k int, a, b day) {
		if !r.bern(0.5 / 12) {
			return
		}
		t := r.between(a, b)
		p := h.head(t)
		if p == nil {
			return
		}
		n++
		wr := s.writers["environmental_services"]
		wr.SetString("request_id", "ENV"+un.id+strconv.Itoa(h.seq)+strconv.Itoa(n))
		wr.SetString("resident_id", p.id)
		wr.SetInt("uprn", uprnOf(h, t))
		wr.SetDate("event_date", t)
		wr.SetCode("event_type", []string{"missed_bin", "fly_tipping_report", "noise_complaint", "bulky_waste", "pest_control"}[r.pick(40, 15, 20*(1+math.Max(0, float64(h.I[k]))), 15, 10)])
		s.row(wr)
	})
}

func (s *sink) youthOffending(h *household) {
	r := s.r
	for _, p := range h.members {
		done := day(0)
		s.personMonths(h, p, func(k int, a, b day) {
			if age := p.age(a); age < 10 || age > 17 || a < done {
				return
			}
			rate := 0.012 * math.Exp(1.2*float64(h.I[k])+0.4*float64(h.V[k]))
			if !p.female {
				rate *= 2
			}
			if !r.bern(rate / 12) {
				return
			}
			t := r.between(a, b)
			s.eventRow("youth_offending", p, 0, t, "referral", nil)
			t2 := t + r.between(14, 90)
			s.eventRow("youth_offending", p, 0, t2, []string{"out_of_court_disposal", "court_order"}[r.pick(65, 35)], nil)
			done = t2 + r.between(90, 365)
			s.eventRow("youth_offending", p, 0, done, "intervention_end", nil)
		})
	}
}

// debts writes sundry debts and their recovery, more often and less often
// paid under financial stress.
func (s *sink) debts(un *unit, h *household) {
	w, r := s.w, s.r
	var ds []debt
	s.eachMonth(h, func(k int, a, b day) {
		f := float64(h.F[k])
		if r.bern(0.03 / 12 * math.Exp(0.9*f)) {
			ds = append(ds, debt{at: r.between(a, b), kind: "sundry", amount: float64(r.intn(40, 900))})
		}
		if f > 1 && r.bern(0.02/12*f) {
			kind := []string{"hb_overpayment", "parking", "council_tax"}[r.pick(3, 1, 4)]
			ds = append(ds, debt{at: r.between(a, b), kind: kind, amount: float64(r.intn(150, 3000))})
		}
		if h.council && k > 0 && b == h.depart-1 && r.bern(0.3) {
			ds = append(ds, debt{at: b + r.between(30, 120), kind: "rent_former_tenant", amount: float64(r.intn(300, 5000))})
		}
	})
	for i, d := range ds {
		p := h.head(min(d.at, h.depart-1))
		if p == nil {
			p = h.members[0]
		}
		id := "D" + un.id + strconv.Itoa(h.seq) + strconv.Itoa(i+1)
		emit := func(t day, ev string, amount float64) {
			if !s.in(t) {
				return
			}
			wr := s.writers["debt_recovery"]
			wr.SetString("debt_id", id)
			wr.SetString("resident_id", p.id)
			s.setUPRN(wr, uprnOf(h, min(t, h.depart-1)), 0.1)
			wr.SetDate("event_date", t)
			wr.SetCode("event_type", ev)
			if !r.bern(0.04) {
				wr.SetCode("debt_type", d.kind)
			}
			wr.SetFloat("amount_gbp", amount, 2)
			s.row(wr)
		}
		f, _, _ := w.state(h, min(d.at, w.end))
		emit(d.at, "invoice", d.amount)
		t := d.at + r.between(28, 40)
		if r.bern(sigmoid(1.2 - f)) {
			emit(t, "payment", d.amount)
			continue
		}
		emit(t, "reminder", 0)
		t += r.between(20, 60)
		if r.bern(0.5) {
			emit(t, "payment_plan", d.amount)
			for j := 1; j <= 3 && r.bern(sigmoid(1-f)); j++ {
				emit(addMonths(t, j), "payment", math.Round(d.amount/3*100)/100)
			}
			continue
		}
		emit(t, "enforcement_agent", d.amount+75)
		if r.bern(0.3) {
			emit(t+r.between(150, 500), "write_off", d.amount+75)
		}
	}
}

// oracle writes the household's members at the as-of date with the true
// escalation probability and the realised outcome, and the true fraud state
// of its tenancies running at the as-of date.
func (s *sink) oracle(h *household) {
	w := s.w
	n := len(w.files)
	if h.atAsOf {
		esc := "0"
		if w.escalatedInWindow(h) {
			esc = "1"
		}
		p := strconv.FormatFloat(h.pAsOf, 'f', 6, 64)
		for _, m := range h.members {
			if m.present(w.asOf) {
				b := s.bufs[n]
				b.WriteString(m.id)
				b.WriteByte(',')
				b.WriteString(p)
				b.WriteByte(',')
				b.WriteString(esc)
				b.WriteByte('\n')
			}
		}
	}
	for ti, tn := range h.tenancy {
		if tn.from <= w.asOf && w.asOf <= tn.to {
			b := s.bufs[n+1]
			b.WriteString(tn.id)
			if h.fraudAt(ti, w.asOf) {
				b.WriteString(",1\n")
			} else {
				b.WriteString(",0\n")
			}
		}
	}
}

// oneSystemPeople adds people known to one service only: library members
// who live outside the borough and drivers given a penalty notice.
func (s *sink) oneSystemPeople(un *unit) {
	w, r := s.w, s.r
	if !r.bern(0.05) {
		return
	}
	p := &person{id: un.nextID(), eth: "not_recorded", disab: "not_recorded",
		given: givenF[r.IntN(len(givenF))], family: family[r.IntN(len(family))], female: true, end: never, death: never}
	if r.bern(0.5) {
		p.female, p.given = false, givenM[r.IntN(len(givenM))]
	}
	p.firstSeen = r.between(w.start, w.end)
	s.resident(p)
	if r.bern(0.6) {
		wr := s.writers["libraries"]
		for t := p.firstSeen; t <= w.end; t += r.between(20, 200) {
			wr.SetString("resident_id", p.id)
			wr.SetDate("event_date", t)
			ev := "loan"
			if t == p.firstSeen {
				ev = "join"
			}
			wr.SetCode("event_type", ev)
			wr.SetCode("branch", libraryBranches[r.IntN(len(libraryBranches))])
			s.row(wr)
		}
		return
	}
	wr := s.writers["parking"]
	wr.SetString("resident_id", p.id)
	wr.SetDate("event_date", p.firstSeen)
	wr.SetCode("event_type", "pcn_issued")
	wr.SetString("vehicle_id", "V"+strconv.FormatUint(uint64(r.Int64N(1<<40)), 36))
	wr.SetFloat("amount_gbp", 130, 2)
	s.row(wr)
}
