package contract

import "strings"

// codeWords holds what each code of the contract's code columns means, in
// the words a caseworker would use, by service key, then column, then
// code. A page shows these words, never the code itself; the test
// TestEveryCodeHasWords keeps the list whole as code lists change.
//
// An event type's words are a short phrase that reads after the service's
// title ("Council tax: missed an instalment").
var codeWords = map[string]map[string]map[string]string{
	"residents": {
		"sex":          {"F": "female", "M": "male"},
		"ethnic_group": {"white": "White", "asian": "Asian", "black": "Black", "mixed": "mixed", "other": "other ethnic group", "not_recorded": "not recorded"},
		"disability":   {"Y": "disabled", "N": "not disabled", "not_recorded": "not recorded"},
	},
	"residences": {
		"relationship": {"head": "household reference person", "partner": "partner", "child": "child",
			"other_relative": "other relative", "lodger": "lodger", "unrelated_adult": "unrelated adult"},
	},
	"properties": {
		"property_type": {"flat": "flat", "maisonette": "maisonette", "house": "house", "bedsit": "bedsit",
			"hmo": "house in multiple occupation"},
		"tenure": {"council": "council tenancy", "housing_association": "housing association", "private_rented": "privately rented",
			"owner_occupied": "owner occupied", "temporary_accommodation": "temporary accommodation"},
		"council_tax_band": {"A": "band A", "B": "band B", "C": "band C", "D": "band D", "E": "band E", "F": "band F",
			"G": "band G", "H": "band H"},
	},
	"council_tax": {
		"event_type": {"liability_start": "became liable at the address", "liability_end": "stopped being liable at the address",
			"discount_change": "discount changed", "payment": "paid", "missed_payment": "missed an instalment",
			"reminder": "reminder sent", "summons": "summons issued", "liability_order": "liability order granted"},
		"discount": {"none": "no discount", "single_person": "single person discount", "student": "student exemption",
			"disabled_reduction": "disabled band reduction", "care_leaver": "care leaver exemption"},
	},
	"council_tax_support": {
		"event_type": {"claim": "claimed", "award": "awarded", "change": "award changed", "suspension": "suspended",
			"termination": "ended"},
	},
	"housing_benefit": {
		"event_type": {"claim": "claimed", "award": "awarded", "change": "award changed", "suspension": "suspended",
			"overpayment": "overpayment found", "termination": "ended"},
	},
	"tenancies": {
		"tenancy_type": {"secure": "secure tenancy", "introductory": "introductory tenancy", "flexible": "flexible tenancy",
			"temporary": "temporary tenancy"},
		"start_reason": {"new_let": "new letting", "succession": "succession", "mutual_exchange": "mutual exchange",
			"transfer": "transfer", "assignment": "assignment"},
		"end_reason": {"surrender": "surrendered", "death": "ended by the tenant's death", "eviction": "evicted",
			"abandonment": "abandoned", "transfer": "transferred", "recovered_fraud": "recovered after fraud", "moved_out": "moved out"},
	},
	"rent_account": {
		"event_type": {"charge": "rent charged", "payment": "rent paid", "arrears_letter": "arrears letter sent",
			"notice_seeking_possession": "notice seeking possession served", "court_order": "possession order granted",
			"eviction": "evicted"},
		"payment_method": {"direct_debit": "direct debit", "standing_order": "standing order", "card": "card", "cash": "cash",
			"bank_transfer": "bank transfer", "housing_benefit": "housing benefit"},
	},
	"repairs": {
		"event_type": {"reported": "repair reported", "visit": "repair visit", "no_access": "no access at a repair visit",
			"completed": "repair completed"},
		"trade": {"plumbing": "plumbing", "electrical": "electrical", "carpentry": "carpentry", "damp_mould": "damp and mould",
			"heating": "heating", "roofing": "roofing", "general": "general repair"},
		"priority": {"emergency": "emergency", "urgent": "urgent", "routine": "routine"},
	},
	"electoral_register": {
		"register": {"full": "full register", "open": "open register"},
	},
	"adult_social_care": {
		"event_type": {"contact": "contact", "assessment": "assessment", "service_start": "care service started",
			"service_end": "care service ended", "carer_assessment": "carer's assessment",
			"safeguarding_concern": "safeguarding concern raised", "safeguarding_enquiry": "safeguarding enquiry"},
		"support_reason": {"physical": "physical support", "sensory": "sensory support", "memory_cognition": "memory and cognition",
			"learning_disability": "learning disability", "mental_health": "mental health", "social_isolation": "social isolation"},
	},
	"childrens_social_care": {
		"event_type": {"contact": "contact", "referral": "referral", "assessment": "assessment", "child_in_need": "child in need",
			"child_protection_enquiry": "child protection enquiry", "child_protection_plan": "child protection plan",
			"looked_after": "became looked after"},
		"need_code": {"abuse_neglect": "abuse or neglect", "disability": "disability", "parental_illness": "parental illness or disability",
			"family_acute_stress": "family in acute stress", "family_dysfunction": "family dysfunction",
			"socially_unacceptable_behaviour": "socially unacceptable behaviour", "low_income": "low income",
			"absent_parenting": "absent parenting", "not_stated": "need not stated"},
	},
	"early_help": {
		"event_type":     {"episode_start": "episode started", "episode_end": "episode ended"},
		"closure_reason": {"needs_met": "needs met", "disengaged": "family disengaged", "stepped_up": "stepped up to social care", "moved_away": "moved away"},
	},
	"education": {
		"event_type": {"attendance": "termly attendance", "suspension": "suspended from school", "permanent_exclusion": "permanently excluded",
			"sen_support": "special educational needs support", "ehc_plan": "education, health and care plan",
			"free_school_meals": "free school meals"},
	},
	"homelessness": {
		"event_type": {"approach": "asked for help", "prevention_duty": "prevention duty owed", "relief_duty": "relief duty owed",
			"main_duty": "main housing duty owed", "temporary_accommodation": "placed in temporary accommodation",
			"discharge": "duty ended"},
		"reason": {"family_or_friends_evicting": "family or friends no longer able to accommodate", "end_of_private_tenancy": "end of a private tenancy",
			"domestic_abuse": "domestic abuse", "rent_arrears": "rent arrears", "relationship_breakdown": "relationship breakdown", "other": "other reason"},
	},
	"anti_social_behaviour": {
		"role":     {"victim": "victim", "perpetrator": "alleged perpetrator", "witness": "witness", "reporter": "reported it"},
		"category": {"noise": "noise", "harassment": "harassment", "drugs": "drugs", "vandalism": "vandalism", "violence": "violence", "nuisance_neighbour": "nuisance neighbour", "other": "other behaviour"},
	},
	"parking": {
		"event_type": {"permit_issued": "permit issued", "permit_renewed": "permit renewed", "permit_cancelled": "permit cancelled",
			"pcn_issued": "penalty charge notice issued", "pcn_paid": "penalty charge paid", "pcn_escalated": "penalty charge escalated"},
	},
	"libraries": {
		"event_type": {"join": "joined", "loan": "borrowed items", "renewal": "renewed a loan", "computer_session": "used a computer",
			"event_attendance": "attended an event"},
	},
	"environmental_services": {
		"event_type": {"missed_bin": "missed bin collection reported", "fly_tipping_report": "fly-tipping reported",
			"noise_complaint": "noise complaint", "bulky_waste": "bulky waste collection", "pest_control": "pest control visit"},
	},
	"debt_recovery": {
		"event_type": {"invoice": "invoice sent", "reminder": "reminder sent", "payment_plan": "payment plan agreed",
			"enforcement_agent": "passed to enforcement agents", "payment": "paid", "write_off": "written off"},
		"debt_type": {"sundry": "sundry debt", "hb_overpayment": "housing benefit overpayment", "parking": "parking debt",
			"council_tax": "council tax debt", "rent_former_tenant": "former tenant's rent"},
	},
	"youth_offending": {
		"event_type": {"referral": "referral", "out_of_court_disposal": "out-of-court disposal", "court_order": "court order",
			"intervention_end": "intervention ended"},
	},
	"fraud_investigations": {
		"referral_source": {"data_match": "data match", "tip_off": "tip-off", "staff_referral": "staff referral", "audit": "audit",
			"national_fraud_initiative": "National Fraud Initiative"},
		"outcome": {"fraud_confirmed": "fraud confirmed", "no_fraud": "no fraud found", "insufficient_evidence": "not enough evidence"},
		"fraud_type": {"subletting": "subletting", "non_occupation": "not living at the home", "false_succession": "false succession",
			"wrongful_application": "wrongful application"},
	},
}

// Words returns what a code of a service's column means, in words a person
// reads ("missed an instalment" for council_tax's missed_payment). ok is
// false when the contract has no words for it: a code outside the column's
// list, or a code that is already a word or a name (a ward, a branch, a
// council tax band), which callers show as it is.
func Words(service, column, code string) (words string, ok bool) {
	w, ok := codeWords[service][column][code]
	return w, ok
}

// NeedsWords reports whether a code must not be shown as it is: it is in
// snake_case or is an upper-case abbreviation a reader cannot know (Y, N,
// F, M). Codes that are ordinary words or names (noise, Holborn, band D)
// read well as they are.
func NeedsWords(code string) bool {
	if strings.Contains(code, "_") {
		return true
	}
	switch code {
	case "Y", "N", "F", "M", "hmo":
		return true
	}
	return false
}

// EventTitle returns the plain-English title of a service's event with type
// code typ: the service's title and the code's words ("Council tax: missed
// an instalment"), or the title alone when the service has no type or the
// code has no words and must not be shown. ok is false for an unknown
// service.
func (c *Contract) EventTitle(service, typ string) (title string, ok bool) {
	f, found := c.File(service)
	if !found {
		return "", false
	}
	if typ == "" || f.TypeColumn == "" {
		return f.Title, true
	}
	if w, ok := Words(f.Service, f.TypeColumn, typ); ok {
		return f.Title + ": " + w, true
	}
	if NeedsWords(typ) {
		return f.Title, true
	}
	return f.Title + ": " + strings.ToLower(typ), true
}
