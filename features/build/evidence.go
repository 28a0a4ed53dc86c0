package build

import (
	"math"
	"slices"

	"caserisk/features/contract"
)

// Evidence signals: tenancy-fraud signals whose value is the number of days
// before the as-of date since the evidence began, so a reason can name the
// date in the records ("registered to vote at another address since March
// 2023") rather than a flag. Their templates use models/explain's {since}
// and {when}.

// evidenceConsts are the codes the evidence signals read.
type evidenceConsts struct {
	repairType     []uint8
	repairReported uint8
	rentMethod     []uint8
	cash, card     uint8
}

func makeEvidenceConsts(ds *dataset) evidenceConsts {
	var k evidenceConsts
	if e := ds.files["repairs"]; e != nil {
		k.repairType, k.repairReported = e.codes[e.col("event_type")], e.codeOf("event_type", "reported")
	}
	if e := ds.files["rent_account"]; e != nil {
		k.rentMethod = e.codes[e.col("payment_method")]
		k.cash, k.card = e.codeOf("payment_method", "cash"), e.codeOf("payment_method", "card")
	}
	return k
}

func daysBefore(d, since contract.Day) float64 { return float64(d - since) }

// tenancyStart is the start date of the tenancy's first-listed running row.
func tenancyStart(x *evalCtx, en *entity) contract.Day {
	return x.ds.files["tenancies"].day[tenancyRow(x, en)]
}

// registeredElsewhereDays: days since the earliest registration, open on
// the as-of date, of a tenant at another address; NaN when none.
func registeredElsewhereDays(x *evalCtx, en *entity) float64 {
	e := x.ds.files["electoral_register"]
	first := contract.NoDay
	for _, r := range en.persons {
		lo, hi := e.resRows(r)
		for i := lo; i < hi; i++ {
			if open(e, i, x.d) && e.prop[i] != en.prop && (first == contract.NoDay || e.day[i] < first) {
				first = e.day[i]
			}
		}
	}
	if first == contract.NoDay {
		return math.NaN()
	}
	return daysBefore(x.d, first)
}

// offRegisterDays: when no tenant is registered to vote at the home on the
// as-of date, the days since the latest tenant registration there ended
// (since the tenancy began when none ever did); NaN while a tenant is
// registered at the home.
func offRegisterDays(x *evalCtx, en *entity) float64 {
	e := x.ds.files["electoral_register"]
	if e == nil {
		return math.NaN()
	}
	start := tenancyStart(x, en)
	last := start
	for _, r := range en.persons {
		lo, hi := e.resRows(r)
		for i := lo; i < hi; i++ {
			if e.prop[i] != en.prop || e.day[i] > x.d || e.knownDay(i) > x.d {
				continue
			}
			end := e.end[i]
			if end == contract.NoDay || end >= x.d {
				return math.NaN() // registered at the home now
			}
			last = max(last, end)
		}
	}
	return daysBefore(x.d, last)
}

// daysWithoutRepairReport: days since the latest repair reported at the
// home during the tenancy, or since the tenancy began when none was.
func daysWithoutRepairReport(x *evalCtx, en *entity) float64 {
	e := x.ds.files["repairs"]
	if e == nil {
		return math.NaN()
	}
	k := x.ds.ek
	last := tenancyStart(x, en)
	for _, i := range e.propRows(en.prop) {
		if known(e, i, x.d) && k.repairType[i] == k.repairReported && e.day[i] > last {
			last = e.day[i]
		}
	}
	return daysBefore(x.d, last)
}

// otherAdultRegisteredDays: days since the earliest registration, open on
// the as-of date, at the home of an adult who is not a tenant; NaN when
// none.
func otherAdultRegisteredDays(x *evalCtx, en *entity) float64 {
	e := x.ds.files["electoral_register"]
	first := contract.NoDay
	for _, i := range e.propRows(en.prop) {
		r := e.res[i]
		if !open(e, i, x.d) || slices.Contains(en.persons, r) || !x.ds.ix.alive(r, x.d) || !adult(x.ds.ix.ageYears(r, x.d)) {
			continue
		}
		if first == contract.NoDay || e.day[i] < first {
			first = e.day[i]
		}
	}
	if first == contract.NoDay {
		return math.NaN()
	}
	return daysBefore(x.d, first)
}

// cashOrCardRentDays: when the tenancy's latest rent payments are all in
// cash or by card after earlier payments by another method (direct debit,
// standing order, bank transfer, housing benefit), the days since the first
// of them; NaN otherwise (another method now, or cash or card throughout).
// Payments without a recorded method are skipped.
func cashOrCardRentDays(x *evalCtx, en *entity) float64 {
	e := x.ds.files["rent_account"]
	if e == nil {
		return math.NaN()
	}
	k, ek := x.ds.k, x.ds.ek
	var pays []int32
	for _, i := range e.tenRows(en.ten) {
		if known(e, i, x.d) && k.rentType[i] == k.rentPayment && ek.rentMethod[i] != 0 {
			pays = append(pays, i)
		}
	}
	slices.SortFunc(pays, func(a, b int32) int {
		if e.day[a] != e.day[b] {
			return int(e.day[a]) - int(e.day[b])
		}
		return int(e.line[a]) - int(e.line[b])
	})
	cc := func(i int32) bool { m := ek.rentMethod[i]; return m == ek.cash || m == ek.card }
	j := len(pays)
	for j > 0 && cc(pays[j-1]) {
		j--
	}
	if j == len(pays) || j == 0 {
		return math.NaN()
	}
	return daysBefore(x.d, e.day[pays[j]])
}

// daysSinceTenantDeath: days since the earliest recorded death of a tenant,
// known on the as-of date; NaN when none.
func daysSinceTenantDeath(x *evalCtx, en *entity) float64 {
	ix := x.ds.ix
	first := contract.NoDay
	for _, r := range en.persons {
		if kd := ix.deathKnown[r]; kd != contract.NoDay && kd <= x.d {
			dd := ix.death[r]
			if dd == contract.NoDay {
				dd = kd
			}
			if first == contract.NoDay || dd < first {
				first = dd
			}
		}
	}
	if first == contract.NoDay {
		return math.NaN()
	}
	return daysBefore(x.d, first)
}

// evidenceSignals are the tenancy evidence signals.
func evidenceSignals() []*signal {
	return []*signal{
		sig("tenant_registered_elsewhere_days", "days", "electoral_register",
			"Days since a tenant's registration to vote at another address began (the earliest still open).",
			"A tenant registered to vote at another address {since}", "A tenant registered to vote at another address from today",
			"empty when no tenant is registered to vote at another address", registeredElsewhereDays),
		sig("tenant_off_register_days", "days", "electoral_register",
			"Days since a tenant was last registered to vote at the home (since the tenancy began if never).",
			"No tenant registered to vote at the home {since}", "No tenant registered to vote at the home from today",
			"empty when a tenant is registered to vote at the home, or the electoral register extract is absent", offRegisterDays),
		sig("days_without_repair_report", "days", "repairs",
			"Days since the latest repair reported at the home during the tenancy (since the tenancy began if none).",
			"No repair reported at the home {since}", "A repair reported at the home today",
			"empty when the repairs extract is absent", daysWithoutRepairReport),
		sig("other_adult_registered_days", "days", "electoral_register",
			"Days since an adult who is not a tenant registered to vote at the home (the earliest still registered).",
			"An adult who is not a tenant registered to vote at the home {since}", "An adult who is not a tenant registered to vote at the home from today",
			"empty when no adult other than the tenants is registered to vote at the home", otherAdultRegisteredDays),
		sig("cash_or_card_rent_days", "days", "rent_account",
			"Days since rent began to be paid only in cash or by card, after earlier payments by another method.",
			"Rent paid only in cash or by card {since}, after another method before", "Rent paid only in cash or by card from today, after another method before",
			"empty when rent is paid by another method or was paid in cash or by card throughout", cashOrCardRentDays),
		sig("days_since_tenant_death", "days", "residents",
			"Days since a tenant's recorded death.",
			"A tenant died {when}", "A tenant died today",
			"empty when no tenant is recorded as deceased", daysSinceTenantDeath),
	}
}
