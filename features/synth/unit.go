package synth

import (
	"math"
	"strconv"
)

// A unit is the borough's unit of generation: one main property (and, for
// some, a second property the first household may move to), and the
// sequence of households that live there over the history. Units own their
// properties exclusively, so households never overlap at a UPRN and the
// generator can make units independently and in parallel.
type unit struct {
	idx int
	id  string
	r   rng
	// tw draws twins and children named after a parent: a stream of its
	// own, so adding them leaves the unit's other draws as they were (until
	// the new people themselves are simulated).
	tw      rng
	props   []*property
	hh      []*household
	nPeople int
	others  []*person // people known to one service only
}

// nextID returns a new resident id of the unit: R, the unit's 7 digits and
// a two-digit (or, past 99, three-digit) person number.
func (un *unit) nextID() string {
	un.nPeople++
	if un.nPeople < 100 {
		return "R" + un.id + strconv.Itoa(100 + un.nPeople)[1:]
	}
	return "R" + un.id + strconv.Itoa(un.nPeople)
}

// ethnicity weights (2021 census, rounded) for white, asian, black, mixed, other.
var ethCodes = []string{"white", "asian", "black", "mixed", "other"}
var ethWeights = []float64{59, 16, 9, 7, 8}

// byTenure returns the value for a tenure: council, housing association,
// private rented, or owner occupied (anything else).
func byTenure(tenure string, council, ha, private, owner float64) float64 {
	switch tenure {
	case "council":
		return council
	case "housing_association":
		return ha
	case "private_rented":
		return private
	}
	return owner
}

// newUnit draws unit u's properties and simulates its households.
func (w *world) newUnit(u int) *unit {
	un := &unit{idx: u, id: unitID(u), r: newRNG(w.cfg.Seed, uint64(u)), tw: newRNG(w.cfg.Seed, uint64(u)|twinStream)}
	r := un.r
	// Ward, weighted towards the more populous (deprived) wards.
	ward := r.pick(w.wardWeights...)
	dep := wardDeprivation[ward]
	// Tenure: council stock ≈ 23% of households, housing associations ≈ 10%.
	tenure := []string{"council", "housing_association", "private_rented", "owner_occupied"}[r.pick(0.19*(1+dep), 0.11*(1+0.5*dep), 0.33, 0.36*(1-0.5*dep))]
	un.props = append(un.props, w.newProperty(un, 0, ward, tenure))
	if r.bern(0.15) {
		t2 := []string{"housing_association", "private_rented", "owner_occupied"}[r.pick(0.15, 0.55, 0.3)]
		un.props = append(un.props, w.newProperty(un, 1, r.pick(w.wardWeights...), t2))
	}
	// Households in sequence at the main property.
	arrive := w.start - r.between(30, 20*365)
	slot1Used := len(un.props) < 2
	for seq := 0; seq < 4 && arrive <= w.end-30; seq++ {
		h := w.newHousehold(un, seq, arrive)
		// Departure from the main property: moving away, or within the
		// borough to the unit's second property.
		ref := max(arrive, w.start)
		p0 := un.props[0]
		h.depart = ref + r.expDays(departRate(p0.tenure, h.kind))
		if h.depart <= arrive {
			h.depart = arrive + 1
		}
		h.stays = []stay{{prop: p0, slot: 0, from: arrive, to: h.depart - 1}}
		if h.depart < w.end && !slot1Used && r.bern(0.35) {
			slot1Used = true
			p1 := un.props[1]
			move := h.depart
			h.depart = move + r.expDays(departRate(p1.tenure, h.kind))
			h.stays = append(h.stays, stay{prop: p1, slot: 1, from: move, to: h.depart - 1})
		}
		w.simulateMembers(un, h)
		h.council = p0.tenure == "council"
		if h.council {
			w.makeTenancies(un, h)
		}
		w.drawState(un, h)
		if h.council {
			w.drawFraud(un, h)
		}
		w.drawEscalations(un, h)
		un.hh = append(un.hh, h)
		if h.stays[0].to >= w.end {
			break
		}
		arrive = h.stays[0].to + 1 + r.between(14, 150)
		if f := h.fraud; f != nil && f.kind == "false_succession" {
			// The home stays taken under the dead tenant's name until recovered.
			if f.until >= w.end {
				break
			}
			arrive = max(arrive, f.until+r.between(14, 150))
		}
	}
	return un
}

// departRate is a household's yearly rate of leaving its home.
func departRate(tenure string, kind int) float64 {
	rate := byTenure(tenure, 0.04, 0.06, 0.2, 0.07)
	if kind == hhElderly {
		rate /= 3
	}
	return rate
}

// newProperty draws a property of the unit in the given ward and tenure.
func (w *world) newProperty(un *unit, slot, ward int, tenure string) *property {
	r := un.r
	n := int64(un.idx*2 + slot)
	p := &property{
		uprn:   100000000000 + (n*7919+int64(w.cfg.Seed%1000)*1_000_003)%899999999999,
		ward:   ward,
		tenure: tenure,
	}
	switch tenure {
	case "council", "housing_association":
		p.ptype = []string{"flat", "maisonette", "house", "bedsit"}[r.pick(70, 15, 10, 5)]
	case "private_rented":
		p.ptype = []string{"flat", "maisonette", "house", "bedsit", "hmo"}[r.pick(65, 8, 12, 7, 8)]
	default:
		p.ptype = []string{"flat", "maisonette", "house"}[r.pick(55, 10, 35)]
	}
	p.bedrooms = r.intn(1, 3)
	if p.ptype == "house" {
		p.bedrooms = r.intn(2, 5)
	} else if p.ptype == "bedsit" {
		p.bedrooms = 0
	} else if p.ptype == "hmo" {
		p.bedrooms = r.intn(3, 7)
	}
	band := p.bedrooms + r.intn(0, 2)
	if tenure == "owner_occupied" && p.ptype == "house" {
		band += 2
	}
	p.band = min(band, 7)
	num := r.intn(1, 240)
	// Each ward has its own few streets and estates.
	street := streets[(ward*7+r.IntN(6))%len(streets)]
	switch {
	case tenure == "council":
		p.address = "Flat " + strconv.Itoa(r.intn(1, 120)) + ", " + estates[(ward+r.IntN(3))%len(estates)] + ", " + street + ", London"
	case p.ptype == "house":
		p.address = strconv.Itoa(num) + " " + street + ", London"
	default:
		p.address = "Flat " + string(rune('A'+r.IntN(6))) + ", " + strconv.Itoa(num) + " " + street + ", London"
	}
	ds := wardDistricts[ward]
	p.postcode = ds[r.IntN(len(ds))] + " " + strconv.Itoa(r.intn(1, 9)) +
		string(postcodeLetters[r.IntN(len(postcodeLetters))]) + string(postcodeLetters[r.IntN(len(postcodeLetters))])
	return p
}

// Twins and shared names: about 1.5% of births are twins (UK maternities,
// ONS birth characteristics), and about 2% of boys share their father's
// given name. Both are drawn from the unit's own stream tw.
const (
	twinRate        = 0.015
	namedAfterRate  = 0.02
	twinSameSexRate = 0.65    // identical twins and same-sex fraternal twins
	twinStream      = 1 << 62 // tw's stream, apart from the units' own
)

// newPerson makes a person of the unit born on birth.
func (w *world) newPerson(un *unit, birth day, female bool, familyName, eth string) *person {
	return w.newPersonFrom(un, un.r, birth, female, familyName, eth)
}

// newPersonFrom is newPerson drawing from r.
func (w *world) newPersonFrom(un *unit, r rng, birth day, female bool, familyName, eth string) *person {
	p := &person{
		id:       un.nextID(),
		female:   female,
		sexKnown: !r.bern(0.015),
		birth:    birth,
		dobKnown: !r.bern(0.03),
		family:   familyName,
		eth:      eth,
		end:      never,
		death:    never,
	}
	if female {
		p.given = givenF[r.IntN(len(givenF))]
	} else {
		p.given = givenM[r.IntN(len(givenM))]
	}
	if r.bern(0.03) {
		p.eth = "not_recorded"
	}
	a := ageAt(birth, w.asOf)
	pd := 0.05 + 0.004*math.Max(0, float64(a-40))
	p.disabled = r.bern(pd)
	switch {
	case r.bern(0.1):
		p.disab = "not_recorded"
	case p.disabled && r.bern(0.85):
		p.disab = "Y"
	default:
		p.disab = "N"
	}
	p.voter = r.bern(0.78)
	p.register = "full"
	if r.bern(0.35) {
		p.register = "open"
	}
	p.library = r.bern(0.3)
	p.branch = r.IntN(len(libraryBranches))
	p.urn = 100000 + r.IntN(60)*137
	switch x := r.Float64(); {
	case x < 0.03:
		p.sen = 2
	case x < 0.14:
		p.sen = 1
	}
	return p
}

// newHousehold draws a household's make-up as it arrives on day arrive.
func (w *world) newHousehold(un *unit, seq int, arrive day) *household {
	r := un.r
	tenure := un.props[0].tenure
	h := &household{seq: seq, arrive: arrive}
	var kw []float64
	switch tenure {
	case "council", "housing_association":
		kw = []float64{35, 12, 33, 15, 5}
	case "private_rented":
		kw = []float64{30, 25, 15, 3, 27}
	default:
		kw = []float64{20, 30, 30, 18, 2}
	}
	h.kind = r.pick(kw...)
	ref := max(arrive, w.start)
	eth := ethCodes[r.pick(ethWeights...)]
	fam := family[r.IntN(len(family))]
	born := func(age int) day { return ref - day(age*365) - r.between(0, 364) }
	add := func(p *person, rel string) {
		p.rel = rel
		p.start = max(arrive, p.birth)
		h.members = append(h.members, p)
	}
	switch h.kind {
	case hhSingle:
		add(w.newPerson(un, born(r.intn(19, 64)), r.bern(0.5), fam, eth), "head")
	case hhCouple:
		a := r.intn(22, 64)
		f := r.bern(0.5)
		add(w.newPerson(un, born(a), f, fam, eth), "head")
		add(w.newPerson(un, born(max(19, a+r.intn(-5, 5))), !f, fam, eth), "partner")
	case hhFamily:
		a := r.intn(22, 50)
		lone := r.bern(0.4)
		add(w.newPerson(un, born(a), lone || r.bern(0.5), fam, eth), "head")
		if !lone {
			add(w.newPerson(un, born(max(19, a+r.intn(-5, 5))), !h.members[0].female, fam, eth), "partner")
		}
		kids := 1 + r.poisson(0.8)
		for k := 0; k < kids && k < 5; k++ {
			ka := r.intn(0, min(17, a-18))
			c := w.newPerson(un, born(ka), r.bern(0.49), fam, eth)
			add(c, "child")
			if t := w.twinOf(un, h, c); t != nil {
				add(t, "child")
			}
		}
		if r.bern(0.05) {
			add(w.newPerson(un, born(r.intn(60, 85)), r.bern(0.6), fam, eth), "other_relative")
		}
	case hhElderly:
		a := r.intn(65, 92)
		f := r.bern(0.6)
		add(w.newPerson(un, born(a), f, fam, eth), "head")
		if r.bern(0.45) {
			add(w.newPerson(un, born(max(60, a+r.intn(-5, 5))), !f, fam, eth), "partner")
		}
	case hhShared:
		n := r.intn(2, 5)
		for k := 0; k < n; k++ {
			rel := "unrelated_adult"
			if k == 0 {
				rel = "head"
			} else if r.bern(0.2) {
				rel = "lodger"
			}
			add(w.newPerson(un, born(r.intn(19, 38)), r.bern(0.5), family[r.IntN(len(family))], ethCodes[r.pick(ethWeights...)]), rel)
		}
	}
	for _, p := range h.members {
		p.firstSeen = max(p.start, w.start-20*365)
	}
	h.car = r.bern(byTenure(tenure, 0.2, 0.2, 0.3, 0.5))
	h.falseSPD = len(h.members) > 1 && r.bern(0.04)
	h.vehicle = "V" + strconv.FormatUint(uint64(un.r.Int64N(1<<40)), 36)
	return h
}

// twinOf names a new child c of household h after its father (for some
// boys) and returns c's twin for some births, or nil. The twin shares c's
// birth day, family name and ethnicity and has another given name. Every
// draw is from the unit's stream tw.
func (w *world) twinOf(un *unit, h *household, c *person) *person {
	tw := un.tw
	if !c.female && tw.bern(namedAfterRate) {
		for _, p := range h.members {
			if p != c && !p.female && (p.rel == "head" || p.rel == "partner") && p.family == c.family && p.end >= c.birth {
				c.given = p.given
				break
			}
		}
	}
	if !tw.bern(twinRate) {
		return nil
	}
	female := c.female
	if !tw.bern(twinSameSexRate) {
		female = !female
	}
	t := w.newPersonFrom(un, tw, c.birth, female, c.family, c.eth)
	for t.given == c.given {
		if female {
			t.given = givenF[tw.IntN(len(givenF))]
		} else {
			t.given = givenM[tw.IntN(len(givenM))]
		}
	}
	return t
}

// simulateMembers runs deaths, births and people leaving year by year from
// the household's arrival in the history until it leaves, and bounds every
// member's presence by the household's.
func (w *world) simulateMembers(un *unit, h *household) {
	r := un.r
	last := h.depart - 1
	for t := max(h.arrive, w.start); t <= min(last, w.end); t += 365 {
		for i := 0; i < len(h.members); i++ {
			p := h.members[i]
			if !p.present(t) {
				continue
			}
			a := p.age(t)
			q := math.Exp(-10.3 + 0.092*float64(a))
			if p.disabled {
				q *= 2
			}
			if r.bern(q) {
				if d := t + r.between(0, 364); d <= w.end {
					p.death = d
					p.end = d
					continue
				}
			}
			leave := 0.0
			switch {
			case p.rel == "child" && a >= 18:
				leave = 0.15
			case p.rel == "partner":
				leave = 0.02
			case p.rel == "lodger" || p.rel == "unrelated_adult":
				leave = 0.2
			}
			if r.bern(leave) {
				p.end = t + r.between(0, 364)
			}
		}
		// Births to families and couples.
		if h.kind == hhFamily || h.kind == hhCouple {
			var mother *person
			for _, p := range h.members {
				if p.present(t) && p.female && p.rel != "child" && p.age(t) >= 20 && p.age(t) <= 42 {
					mother = p
				}
			}
			if mother != nil && r.bern(0.07) && len(h.members) < 9 {
				b := t + r.between(0, 364)
				if b <= mother.end && b <= last && b <= w.end {
					c := w.newPerson(un, b, r.bern(0.49), mother.family, mother.eth)
					c.rel = "child"
					c.start = b
					c.firstSeen = b
					h.members = append(h.members, c)
					if tw := w.twinOf(un, h, c); tw != nil && len(h.members) < 9 {
						tw.rel, tw.start, tw.firstSeen = "child", b, b
						h.members = append(h.members, tw)
					}
				}
			}
		}
	}
	// Presence ends when the household leaves.
	w.clipMembers(h)
	// A household whose members have all gone dissolves.
	end := h.arrive
	for _, p := range h.members {
		end = max(end, p.end)
	}
	if end < h.depart-1 {
		w.shortenStay(h, end+1)
	}
}

// clipMembers bounds each member's presence by the household's departure.
func (w *world) clipMembers(h *household) {
	for _, p := range h.members {
		if h.depart != never && p.end >= h.depart {
			p.end = h.depart - 1
		}
	}
}

// shortenStay makes the household leave on day d (first day absent).
func (w *world) shortenStay(h *household, d day) {
	h.depart = d
	keep := h.stays[:0]
	for _, s := range h.stays {
		if s.from >= d {
			continue
		}
		if s.to >= d {
			s.to = d - 1
		}
		keep = append(keep, s)
	}
	h.stays = keep
	w.clipMembers(h)
	// Tenancies (tenancies are in time order) end when the household leaves;
	// any that would have begun later never happen, nor do their referrals.
	kept := h.tenancy[:0]
	for _, tn := range h.tenancy {
		if tn.from >= d {
			continue
		}
		if tn.to >= d {
			tn.to = d - 1
		}
		kept = append(kept, tn)
	}
	h.tenancy = kept
	if f := h.fraud; f != nil {
		if f.tenancy >= len(h.tenancy) {
			f.kind, f.from = "", never
		}
		invs := f.investigations[:0]
		for _, inv := range f.investigations {
			if inv.referral < d && inv.tenancy.from < d {
				invs = append(invs, inv)
			}
		}
		f.investigations = invs
	}
}

// drawState draws the household's hidden factors and their slow monthly
// drift. A common deprivation factor ties stress, vulnerability and
// instability together, so signals correlate across services.
func (w *world) drawState(un *unit, h *household) {
	r := un.r
	p0 := un.props[0]
	g := r.NormFloat64()
	shift := byTenure(p0.tenure, 0.8, 0.6, 0.1, -0.7) + 0.3*wardDeprivation[p0.ward]
	h.muF = -0.3 + shift + 0.75*g + 0.55*r.NormFloat64()
	h.muV = -0.3 + 0.3*shift + 0.55*g + 0.75*r.NormFloat64()
	h.muI = -0.3 + 0.3*shift + 0.45*g + 0.8*r.NormFloat64()
	if p0.tenure == "private_rented" {
		h.muI += 0.3
	}
	for _, p := range h.members {
		if p.disabled {
			h.muV += 0.3
			break
		}
	}
	if h.kind == hhFamily && len(h.members) > 0 && len(h.members) >= 2 && h.members[1].rel == "child" {
		h.muV += 0.3 // lone parent
	}
	n := len(w.months) - 1
	h.F, h.V, h.I = make([]float32, n), make([]float32, n), make([]float32, n)
	var dF, dV, dI float64 = r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
	const rho = 0.95
	s := math.Sqrt(1 - rho*rho)
	for k := 0; k < n; k++ {
		h.F[k] = float32(h.muF + 0.55*dF)
		h.V[k] = float32(h.muV + 0.5*dV)
		h.I[k] = float32(h.muI + 0.55*dI)
		dF = rho*dF + s*r.NormFloat64()
		dV = rho*dV + s*r.NormFloat64()
		dI = rho*dI + s*r.NormFloat64()
	}
}
