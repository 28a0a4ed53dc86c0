package build

import (
	"math"
	"slices"
	"strings"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// signal is a named cross-service feature written in Go.
type signal struct {
	meta FeatureMeta
	eval func(x *evalCtx, en *entity) float64
}

// evalCtx is what a signal sees: the data and the as-of snapshot.
type evalCtx struct {
	ds *dataset
	s  *snapshot
	d  contract.Day
}

// consts holds code values resolved once per build.
type consts struct {
	rentPayment, rentCharge           uint8
	rentType                          []uint8
	rentBalance, rentAmount           []float32
	ctDiscount                        []uint8
	ctBalance                         []float32
	singlePerson                      uint8
	parkType                          []uint8
	permitIssued, permitRenewed       uint8
	eduType                           []uint8
	eduAttendance                     []float32
	attendance                        uint8
	tenJoint, tenStart, tenType       []uint8
	succession, mutualExchange, intro uint8
	council, temporary, private, hmo  uint8
	escalations                       map[string]cond // per service: the escalation codes
	closedDate                        []contract.Day
	outcome                           []uint8
	fraudConfirmed                    uint8
	// Code names by stored value (index 0 is a missing value), for audit columns.
	sexNames, ethNames, disNames, wardNames []string
}

func codeNames(f *contract.File, column string) []string {
	col, _ := f.Column(column)
	return append([]string{""}, col.Codes...)
}

func makeConsts(ds *dataset) consts {
	var k consts
	c := contract.Default()
	if e := ds.files["rent_account"]; e != nil {
		k.rentPayment, k.rentCharge = e.codeOf("event_type", "payment"), e.codeOf("event_type", "charge")
		k.rentType = e.codes[e.col("event_type")]
		k.rentBalance, k.rentAmount = e.nums[e.col("balance_gbp")], e.nums[e.col("amount_gbp")]
	}
	if e := ds.files["council_tax"]; e != nil {
		k.ctDiscount, k.ctBalance = e.codes[e.col("discount")], e.nums[e.col("balance_gbp")]
		k.singlePerson = e.codeOf("discount", "single_person")
	}
	if e := ds.files["parking"]; e != nil {
		k.parkType = e.codes[e.col("event_type")]
		k.permitIssued, k.permitRenewed = e.codeOf("event_type", "permit_issued"), e.codeOf("event_type", "permit_renewed")
	}
	if e := ds.files["education"]; e != nil {
		k.eduType, k.eduAttendance = e.codes[e.col("event_type")], e.nums[e.col("attendance_pct")]
		k.attendance = e.codeOf("event_type", "attendance")
	}
	if e := ds.files["tenancies"]; e != nil {
		k.tenJoint, k.tenStart, k.tenType = e.codes[e.col("joint")], e.codes[e.col("start_reason")], e.codes[e.col("tenancy_type")]
		k.succession, k.mutualExchange = e.codeOf("start_reason", "succession"), e.codeOf("start_reason", "mutual_exchange")
		k.intro = e.codeOf("tenancy_type", "introductory")
	}
	if e := ds.files["fraud_investigations"]; e != nil {
		k.closedDate, k.outcome = e.dates[e.col("closed_date")], e.codes[e.col("outcome")]
		k.fraudConfirmed = e.codeOf("outcome", "fraud_confirmed")
	}
	props, _ := c.File("properties")
	res, _ := c.File("residents")
	k.sexNames, k.ethNames, k.disNames = codeNames(res, "sex"), codeNames(res, "ethnic_group"), codeNames(res, "disability")
	k.wardNames = codeNames(props, "ward")
	tenure, _ := props.Column("tenure")
	ptype, _ := props.Column("property_type")
	k.council, k.temporary = codeIndex(&tenure, "council"), codeIndex(&tenure, "temporary_accommodation")
	k.private, k.hmo = codeIndex(&tenure, "private_rented"), codeIndex(&ptype, "hmo")
	k.escalations = map[string]cond{}
	for _, esc := range contract.Escalations() {
		e := ds.files[esc.Service]
		if e == nil {
			continue
		}
		cd := k.escalations[esc.Service]
		cd.vals = e.codes[e.col(esc.Column)]
		cd.mask |= 1 << e.codeOf(esc.Column, esc.Code)
		k.escalations[esc.Service] = cd
	}
	return k
}

// known reports whether row i of e is known on d (and dated on or before it).
func known(e *events, i int32, d contract.Day) bool {
	return e.day[i] <= d && e.knownDay(i) <= d
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// latest returns the latest row among rows known on d that pass keep, or -1.
func latest(e *events, rows []int32, d contract.Day, keep func(int32) bool) int32 {
	best := int32(-1)
	for _, i := range rows {
		if !known(e, i, d) || keep != nil && !keep(i) {
			continue
		}
		if best < 0 || e.day[i] > e.day[best] || e.day[i] == e.day[best] && e.line[i] > e.line[best] {
			best = i
		}
	}
	return best
}

func span(lo, hi int32) []int32 {
	out := make([]int32, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// householdSize is the number of people living at the entity's address
// (the resident alone when the address is unknown).
func householdSize(x *evalCtx, en *entity) float64 { return float64(len(en.hh)) }

func countAges(x *evalCtx, en *entity, keep func(age float64) bool) float64 {
	n := 0
	for _, r := range en.hh {
		if keep(x.ds.ix.ageYears(r, x.d)) {
			n++
		}
	}
	return float64(n)
}

// adult treats an unknown age as adult (a person on a register or a
// tenancy without a recorded date of birth is almost always an adult).
func adult(age float64) bool { return math.IsNaN(age) || age >= 18 }

func tenureIs(x *evalCtx, en *entity, code uint8) float64 {
	if en.prop < 0 {
		return math.NaN()
	}
	return flag(x.ds.ix.tenure[en.prop] == code)
}

// rentBalance returns the latest known balance of tenancy t, or NaN.
func rentBalance(x *evalCtx, t int32) float64 {
	e := x.ds.files["rent_account"]
	if e == nil || t < 0 {
		return math.NaN()
	}
	bal := x.ds.k.rentBalance
	i := latest(e, e.tenRows(t), x.d, func(i int32) bool { return !math.IsNaN(float64(bal[i])) })
	if i < 0 {
		return math.NaN()
	}
	return float64(bal[i])
}

// escalations counts escalation events of the people, known on d, and the latest day.
func escalations(x *evalCtx, people []int32) (int, contract.Day) {
	n, last := 0, contract.NoDay
	for svc, cd := range x.ds.k.escalations {
		e := x.ds.files[svc]
		for _, r := range people {
			lo, hi := e.resRows(r)
			for i := lo; i < hi; i++ {
				if known(e, i, x.d) && cd.ok(i) {
					n++
					last = max(last, e.day[i])
				}
			}
		}
	}
	return n, last
}

// registeredAt returns the residents with an electoral registration open on d at property p.
func registeredAt(x *evalCtx, p int32) []int32 {
	e := x.ds.files["electoral_register"]
	var out []int32
	for _, i := range e.propRows(p) {
		if open(e, i, x.d) && !slices.Contains(out, e.res[i]) && x.ds.ix.alive(e.res[i], x.d) {
			out = append(out, e.res[i])
		}
	}
	return out
}

// singlePersonDiscountAdults is 1 when the latest council tax discount at
// the address is the single-person discount while two or more adults are
// registered to vote there.
func singlePersonDiscountAdults(x *evalCtx, en *entity) float64 {
	e := x.ds.files["council_tax"]
	if e == nil || x.ds.files["electoral_register"] == nil || en.prop < 0 {
		return math.NaN()
	}
	disc := x.ds.k.ctDiscount
	i := latest(e, e.propRows(en.prop), x.d, func(i int32) bool { return disc[i] != 0 })
	if i < 0 || disc[i] != x.ds.k.singlePerson {
		return 0
	}
	adults := 0
	for _, r := range registeredAt(x, en.prop) {
		if adult(x.ds.ix.ageYears(r, x.d)) {
			adults++
		}
	}
	return flag(adults >= 2)
}

// servicesInContact counts the services with an event for any of the people in the last year.
func servicesInContact(x *evalCtx, people []int32) float64 {
	n := 0
	for svc, e := range x.ds.files {
		if e.file.Kind != contract.Events || svc == "fraud_investigations" {
			continue
		}
		found := false
		for _, r := range people {
			lo, hi := e.resRows(r)
			for i := lo; i < hi && !found; i++ {
				found = known(e, i, x.d) && e.day[i] > x.d-365
			}
			if found {
				break
			}
		}
		if found {
			n++
		}
	}
	return float64(n)
}

func sig(name, unit, service, desc, tmpl, zero, missing string, f func(*evalCtx, *entity) float64) *signal {
	return &signal{meta: FeatureMeta{Name: name, Description: desc, Unit: unit, Service: service,
		Aggregation: "signal", Template: tmpl, ZeroTemplate: zero, Missing: missing}, eval: f}
}

// signalWindows gives the look-back, in days, of the signals that have one.
var signalWindows = map[string]int{
	"moves_3y": 1095, "services_in_contact_365d": 365, "household_services_in_contact_365d": 365,
	"persistent_absence_household": 365, "no_repairs_3y": 1095, "tenant_parks_elsewhere": 365,
	"rent_months_in_advance": 365, "rent_paid_far_in_advance": 365,
}

// signals returns the named signals of an entity.
func signals(kind string) map[string]*signal {
	var list []*signal
	common := []*signal{
		sig("household_size", "people", "residences", "People living at the address on the as-of date (for a tenancy: at the let property, which may be none).",
			"{value} people in the household", "Nobody recorded as living at the home", "", householdSize),
		sig("rent_arrears_gbp_now", "GBP", "rent_account", "Current rent arrears: the latest known rent account balance, 0 when in credit.",
			"Rent arrears of £{value}", "No rent arrears", "empty when there is no council tenancy or its account has no transaction",
			func(x *evalCtx, en *entity) float64 {
				t := en.ten
				if t < 0 {
					for _, r := range en.hh {
						if t = x.s.tenancyOf[r]; t >= 0 {
							break
						}
					}
				}
				return max(rentBalance(x, t), 0)
			}),
		sig("single_person_discount_multiple_adults", "flag", "council_tax", "Single-person council tax discount at the address while two or more adults are registered to vote there.",
			"A single-person discount with several adults registered ({value})", "No single-person discount conflict", "empty when the address is unknown", singlePersonDiscountAdults),
	}
	switch kind {
	case spec.Resident:
		list = append(common,
			sig("age_years", "years", "residents", "The person's age in whole years.", "Aged {value}", "", "empty when the date of birth is not recorded",
				func(x *evalCtx, en *entity) float64 { return x.ds.ix.ageYears(en.res, x.d) }),
			sig("household_adults", "people", "residences", "Adults (18 or over, or of unrecorded age) living at the address.",
				"{value} {adult|adults} in the household", "", "", func(x *evalCtx, en *entity) float64 { return countAges(x, en, adult) }),
			sig("household_children", "people", "residences", "Children under 18 living at the address.", "{value} {child|children} in the household", "No children in the household", "",
				func(x *evalCtx, en *entity) float64 { return countAges(x, en, func(a float64) bool { return a < 18 }) }),
			sig("household_pensioners", "people", "residences", "People aged 65 or over living at the address.", "{value} {person|people} over 65 in the household", "Nobody over 65 in the household", "",
				func(x *evalCtx, en *entity) float64 { return countAges(x, en, func(a float64) bool { return a >= 65 }) }),
			sig("days_at_address", "days", "residences", "Days since the person moved to their current address.", "Living at the address {since}", "", "",
				func(x *evalCtx, en *entity) float64 { return float64(x.d - x.s.homeStart[en.res]) }),
			sig("moves_3y", "count", "residences", "Moves to a new address in the last 3 years.", "{value} {move|moves} in the last 3 years", "No move in the last 3 years", "",
				func(x *evalCtx, en *entity) float64 {
					e := x.ds.files["residences"]
					lo, hi := e.resRows(en.res)
					n := 0
					for i := lo; i < hi; i++ {
						if known(e, i, x.d) && e.day[i] > x.d-1095 {
							n++
						}
					}
					return float64(n)
				}),
			sig("lives_in_council_home", "flag", "properties", "The address is a council home.", "Living in a council home", "Not living in a council home", "empty when the address is unknown",
				func(x *evalCtx, en *entity) float64 { return tenureIs(x, en, x.ds.k.council) }),
			sig("lives_in_temporary_accommodation", "flag", "properties", "The address is temporary accommodation.", "Living in temporary accommodation", "Not in temporary accommodation", "empty when the address is unknown",
				func(x *evalCtx, en *entity) float64 { return tenureIs(x, en, x.ds.k.temporary) }),
			sig("lives_in_private_rented", "flag", "properties", "The address is privately rented.", "Living in a private rented home", "Not in a private rented home", "empty when the address is unknown",
				func(x *evalCtx, en *entity) float64 { return tenureIs(x, en, x.ds.k.private) }),
			sig("lives_in_hmo", "flag", "properties", "The address is a house in multiple occupation.", "Living in a house in multiple occupation", "Not in a house in multiple occupation", "empty when the address is unknown",
				func(x *evalCtx, en *entity) float64 {
					if en.prop < 0 {
						return math.NaN()
					}
					return flag(x.ds.ix.ptype[en.prop] == x.ds.k.hmo)
				}),
			sig("people_per_bedroom", "ratio", "properties", "People living at the address per bedroom.", "{value} {person|people} per bedroom", "", "empty when the address or its bedrooms are unknown",
				func(x *evalCtx, en *entity) float64 {
					if en.prop < 0 {
						return math.NaN()
					}
					b := float64(x.ds.ix.bedrooms[en.prop])
					if !(b > 0) {
						b = 1 // a studio or bedsit
					}
					return float64(len(en.hh)) / b
				}),
			sig("is_council_tenant", "flag", "tenancies", "The person holds a council tenancy running on the as-of date.", "A council tenant", "Not a council tenant", "",
				func(x *evalCtx, en *entity) float64 { return flag(en.ten >= 0) }),
			sig("council_tax_arrears_gbp_now", "GBP", "council_tax", "Council tax arrears at the address: the latest known account balance, 0 when in credit.",
				"Council tax arrears of £{value}", "No council tax arrears", "empty when the address has no council tax record",
				func(x *evalCtx, en *entity) float64 {
					e := x.ds.files["council_tax"]
					if e == nil || en.prop < 0 {
						return math.NaN()
					}
					bal := x.ds.k.ctBalance
					i := latest(e, e.propRows(en.prop), x.d, func(i int32) bool { return !math.IsNaN(float64(bal[i])) })
					if i < 0 {
						return math.NaN()
					}
					return max(float64(bal[i]), 0)
				}),
			sig("prior_escalations_person", "count", "cross_service", "The person's earlier escalation events (child protection plan, looked after, safeguarding enquiry, homelessness main duty or temporary accommodation, eviction).",
				"{value} earlier {crisis|crises} for the person", "No earlier crisis for the person", "",
				func(x *evalCtx, en *entity) float64 { n, _ := escalations(x, en.persons); return float64(n) }),
			sig("prior_escalations_household", "count", "cross_service", "Earlier escalation events of anyone now in the household.",
				"{value} earlier {crisis|crises} in the household", "No earlier crisis in the household", "",
				func(x *evalCtx, en *entity) float64 { n, _ := escalations(x, en.hh); return float64(n) }),
			sig("days_since_escalation_household", "days", "cross_service", "Days since the latest escalation event of anyone now in the household.",
				"A crisis in the household {when}", "", "empty when the household has no earlier escalation",
				func(x *evalCtx, en *entity) float64 {
					n, last := escalations(x, en.hh)
					if n == 0 {
						return math.NaN()
					}
					return float64(x.d - last)
				}),
			sig("persistent_absence_household", "flag", "education", "A child in the household whose latest termly attendance in the last year was under 90%.",
				"Persistent school absence in the household", "No persistent school absence in the household", "empty when the education extract is absent",
				func(x *evalCtx, en *entity) float64 {
					e := x.ds.files["education"]
					if e == nil {
						return math.NaN()
					}
					k := x.ds.k
					for _, r := range en.hh {
						lo, hi := e.resRows(r)
						i := latest(e, span(lo, hi), x.d, func(i int32) bool { return k.eduType[i] == k.attendance && e.day[i] > x.d-365 })
						if i >= 0 && k.eduAttendance[i] < 90 {
							return 1
						}
					}
					return 0
				}),
			sig("services_in_contact_365d", "count", "cross_service", "Council services with any record of the person in the last year.",
				"In contact with {value} council {service|services} in the last year", "No contact with council services in the last year", "",
				func(x *evalCtx, en *entity) float64 { return servicesInContact(x, en.persons) }),
			sig("household_services_in_contact_365d", "count", "cross_service", "Council services with any record of anyone in the household in the last year.",
				"The household in contact with {value} council {service|services} in the last year", "No household contact with council services in the last year", "",
				func(x *evalCtx, en *entity) float64 { return servicesInContact(x, en.hh) }),
		)
	case spec.Tenancy:
		list = append(common, tenancySignals()...)
	}
	m := make(map[string]*signal, len(list))
	for _, s := range list {
		s.meta.WindowDays = signalWindows[s.meta.Name]
		m[s.meta.Name] = s
	}
	return m
}

// tenancyRow returns the tenancy's first-listed running row.
func tenancyRow(x *evalCtx, en *entity) int32 { return x.s.tenPrim[en.ten] }

// rentMonthsInAdvance is the credit on the rent account in months of rent.
func rentMonthsInAdvance(x *evalCtx, en *entity) float64 {
	e := x.ds.files["rent_account"]
	if e == nil {
		return math.NaN()
	}
	bal := rentBalance(x, en.ten)
	if math.IsNaN(bal) {
		return math.NaN()
	}
	k := x.ds.k
	var sum float64
	n := 0
	for _, i := range e.tenRows(en.ten) {
		if known(e, i, x.d) && e.day[i] > x.d-365 && k.rentType[i] == k.rentCharge && !math.IsNaN(float64(k.rentAmount[i])) {
			sum += float64(k.rentAmount[i])
			n++
		}
	}
	if n == 0 || sum <= 0 {
		return math.NaN()
	}
	return max(-bal/(sum/float64(n)), 0)
}

// paymentsAfterDeath counts rent payments dated after a tenant's death, known on d;
// -1 when no tenant is known to have died.
func paymentsAfterDeath(x *evalCtx, en *entity) int {
	ix := x.ds.ix
	death := contract.NoDay
	for _, r := range en.persons {
		if k := ix.deathKnown[r]; k != contract.NoDay && k <= x.d {
			dd := ix.death[r]
			if dd == contract.NoDay {
				dd = k
			}
			if death == contract.NoDay || dd < death {
				death = dd
			}
		}
	}
	if death == contract.NoDay {
		return -1
	}
	e := x.ds.files["rent_account"]
	if e == nil {
		return 0
	}
	n := 0
	for _, i := range e.tenRows(en.ten) {
		if known(e, i, x.d) && e.day[i] > death && x.ds.k.rentType[i] == x.ds.k.rentPayment {
			n++
		}
	}
	return n
}

func tenancySignals() []*signal {
	return []*signal{
		sig("tenancy_years", "years", "tenancies", "Years since the tenancy started.", "A tenancy of {value} years", "A tenancy in its first year", "",
			func(x *evalCtx, en *entity) float64 {
				return math.Floor(float64(x.d-x.ds.files["tenancies"].day[tenancyRow(x, en)])/365.25*10) / 10
			}),
		sig("tenancy_joint", "flag", "tenancies", "A joint tenancy.", "A joint tenancy ({value})", "A sole tenancy", "",
			func(x *evalCtx, en *entity) float64 { return flag(x.ds.k.tenJoint[tenancyRow(x, en)] == 1) }),
		sig("tenancy_succession", "flag", "tenancies", "The tenancy began by succession (after a tenant died).", "A tenancy by succession ({value})", "Not a succession", "",
			func(x *evalCtx, en *entity) float64 {
				return flag(x.ds.k.tenStart[tenancyRow(x, en)] == x.ds.k.succession)
			}),
		sig("tenancy_mutual_exchange", "flag", "tenancies", "The tenancy began by mutual exchange.", "A tenancy by mutual exchange ({value})", "Not a mutual exchange", "",
			func(x *evalCtx, en *entity) float64 {
				return flag(x.ds.k.tenStart[tenancyRow(x, en)] == x.ds.k.mutualExchange)
			}),
		sig("tenancy_introductory", "flag", "tenancies", "An introductory tenancy.", "An introductory tenancy ({value})", "Not an introductory tenancy", "",
			func(x *evalCtx, en *entity) float64 { return flag(x.ds.k.tenType[tenancyRow(x, en)] == x.ds.k.intro) }),
		sig("tenant_age_years", "years", "residents", "Age of the first-listed tenant in whole years.", "A tenant aged {value}", "", "empty when the tenant's date of birth is not recorded",
			func(x *evalCtx, en *entity) float64 { return x.ds.ix.ageYears(en.res, x.d) }),
		sig("rent_months_in_advance", "ratio", "rent_account", "Credit on the rent account in months of rent (0 when not in credit).",
			"Rent paid {value} months in advance", "Rent not paid in advance", "empty when the account has no rent charge in the last year",
			rentMonthsInAdvance),
		sig("rent_paid_far_in_advance", "flag", "rent_account", "Rent paid three or more months in advance.", "Rent paid far in advance ({value})", "Rent not paid far in advance", "",
			func(x *evalCtx, en *entity) float64 { return flag(rentMonthsInAdvance(x, en) >= 3) }),
		sig("no_repairs_3y", "flag", "repairs", "A tenancy of three years or more with no repair activity at the home in the last 3 years.",
			"No repairs in 3 years ({value})", "Repairs raised in the last 3 years", "empty when the repairs extract is absent",
			func(x *evalCtx, en *entity) float64 {
				e := x.ds.files["repairs"]
				if e == nil {
					return math.NaN()
				}
				if x.ds.files["tenancies"].day[tenancyRow(x, en)] > x.d-1095 {
					return 0
				}
				for _, i := range e.propRows(en.prop) {
					if known(e, i, x.d) && e.day[i] > x.d-1095 {
						return 0
					}
				}
				return 1
			}),
		sig("tenant_registered_elsewhere", "flag", "electoral_register", "A tenant is registered to vote at another address.",
			"A tenant registered to vote elsewhere ({value})", "No tenant registered to vote elsewhere", "",
			func(x *evalCtx, en *entity) float64 {
				e := x.ds.files["electoral_register"]
				for _, r := range en.persons {
					lo, hi := e.resRows(r)
					for i := lo; i < hi; i++ {
						if open(e, i, x.d) && e.prop[i] != en.prop {
							return 1
						}
					}
				}
				return 0
			}),
		sig("tenant_not_registered_here", "flag", "electoral_register", "No tenant is registered to vote at the home.",
			"No tenant registered to vote at the home ({value})", "A tenant registered to vote at the home", "",
			func(x *evalCtx, en *entity) float64 {
				for _, r := range registeredAt(x, en.prop) {
					if slices.Contains(en.persons, r) {
						return 0
					}
				}
				return 1
			}),
		sig("tenant_parks_elsewhere", "flag", "parking", "A tenant was issued or renewed a parking permit at another address in the last year.",
			"A tenant's parking permit at another address ({value})", "No parking permit at another address", "empty when the parking extract is absent",
			func(x *evalCtx, en *entity) float64 {
				e := x.ds.files["parking"]
				if e == nil {
					return math.NaN()
				}
				k := x.ds.k
				for _, r := range en.persons {
					lo, hi := e.resRows(r)
					for i := lo; i < hi; i++ {
						if known(e, i, x.d) && e.day[i] > x.d-365 && (k.parkType[i] == k.permitIssued || k.parkType[i] == k.permitRenewed) &&
							e.prop[i] >= 0 && e.prop[i] != en.prop {
							return 1
						}
					}
				}
				return 0
			}),
		sig("tenant_lives_elsewhere", "flag", "residences", "No tenant is recorded as living at the home on the as-of date.",
			"No tenant living at the home ({value})", "A tenant lives at the home", "",
			func(x *evalCtx, en *entity) float64 {
				for _, r := range en.persons {
					if x.s.home[r] == en.prop {
						return 0
					}
				}
				return 1
			}),
		sig("other_adults_registered", "people", "electoral_register", "Adults registered to vote at the home who are not tenants.",
			"{value} other adults registered at the home", "No other adult registered at the home", "",
			func(x *evalCtx, en *entity) float64 {
				n := 0
				for _, r := range registeredAt(x, en.prop) {
					if !slices.Contains(en.persons, r) && adult(x.ds.ix.ageYears(r, x.d)) {
						n++
					}
				}
				return float64(n)
			}),
		sig("deceased_tenant", "flag", "residents", "A tenant of this running tenancy is recorded as deceased.",
			"A deceased tenant on a running tenancy ({value})", "No deceased tenant", "",
			func(x *evalCtx, en *entity) float64 {
				for _, r := range en.persons {
					if k := x.ds.ix.deathKnown[r]; k != contract.NoDay && k <= x.d {
						return 1
					}
				}
				return 0
			}),
		sig("deceased_tenant_payments_continue", "flag", "rent_account", "Rent payments continue after a tenant's recorded death.",
			"Rent still paid after a tenant's death ({value})", "No payment after a tenant's death", "",
			func(x *evalCtx, en *entity) float64 { return flag(paymentsAfterDeath(x, en) > 0) }),
		sig("payments_since_tenant_death", "count", "rent_account", "Rent payments dated after a tenant's recorded death.",
			"{value} rent payments after a tenant's death", "No payment after a tenant's death", "",
			func(x *evalCtx, en *entity) float64 { return float64(max(paymentsAfterDeath(x, en), 0)) }),
	}
}

// Signals returns the metadata of the named signals of an entity
// (spec.Resident or spec.Tenancy), sorted by name.
func Signals(kind string) []FeatureMeta {
	var out []FeatureMeta
	for _, s := range signals(kind) {
		out = append(out, s.meta)
	}
	slices.SortFunc(out, func(a, b FeatureMeta) int { return strings.Compare(a.Name, b.Name) })
	return out
}
