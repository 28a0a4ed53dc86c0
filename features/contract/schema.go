package contract

// Column constructors keep the schema table below readable.

func residentID() Column {
	return Column{Name: "resident_id", Type: String, Required: true,
		Description: "The Residents Index identifier of the person this row is about."}
}

func uprn(required bool) Column {
	return Column{Name: "uprn", Type: Int, Required: required,
		Description: "Unique Property Reference Number (12 digits) of the address the row is about."}
}

func date(name, desc string, required bool) Column {
	return Column{Name: name, Type: Date, Required: required, Description: desc}
}

func code(name, desc string, required bool, codes ...string) Column {
	return Column{Name: name, Type: Code, Required: required, Description: desc, Codes: codes}
}

func money(name, desc string) Column {
	return Column{Name: name, Type: Float, Unit: "GBP", Description: desc}
}

func recorded() Column {
	return date("recorded_date", "The date the row was entered in the source system; may be later than the event date.", false)
}

// Wards are the twenty wards of the borough.
var wards = []string{
	"Belsize", "Bloomsbury", "Camden Square", "Camden Town", "Fortune Green",
	"Frognal", "Gospel Oak", "Hampstead Town", "Haverstock", "Highgate",
	"Holborn & Covent Garden", "Kentish Town North", "Kentish Town South",
	"Kilburn", "King's Cross", "Primrose Hill", "Regent's Park",
	"South Hampstead", "St Pancras & Somers Town", "West Hampstead",
}

// Wards returns the borough's wards, the codes of properties.ward.
func Wards() []string { return append([]string(nil), wards...) }

func files() []File {
	return []File{
		{
			Name: "residents.csv", Service: "residents", Title: "Residents Index",
			Description: "One row per person known to any service: the index's identity record.",
			Kind:        Entity, Key: []string{"resident_id"}, EventDate: "first_seen_date",
			Columns: []Column{
				residentID(),
				{Name: "given_name", Type: String, Personal: true, Description: "Given name."},
				{Name: "family_name", Type: String, Personal: true, Description: "Family name."},
				{Name: "date_of_birth", Type: Date, Personal: true, Description: "Date of birth; empty where no service holds it."},
				code("sex", "Sex as recorded.", false, "F", "M"),
				{Name: "ethnic_group", Type: Code, Protected: true, Required: true,
					Description: "ONS high-level ethnic group.",
					Codes:       []string{"white", "asian", "black", "mixed", "other", "not_recorded"}},
				{Name: "disability", Type: Code, Protected: true, Required: true,
					Description: "Disability as recorded by any service.",
					Codes:       []string{"Y", "N", "not_recorded"}},
				date("first_seen_date", "The date the person first appears in any service (birth or arrival).", true),
				date("date_of_death", "Date of death; empty while alive or unknown.", false),
				date("death_recorded_date", "The date the death was recorded in the index: the death is known from this date (from date_of_death where this is empty).", false),
			},
		},
		{
			Name: "residences.csv", Service: "residences", Title: "Residence history",
			Description: "Who lived where and when, as the Residents Index resolved it: one row per stay at an address.",
			Kind:        Periods, Key: []string{"resident_id", "uprn", "start_date"},
			EventDate: "start_date", EndDate: "end_date", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(true),
				date("start_date", "First day at the address.", true),
				date("end_date", "Last day at the address; empty while living there.", false),
				code("relationship", "Relationship to the household's reference person.", false,
					"head", "partner", "child", "other_relative", "lodger", "unrelated_adult"),
			},
		},
		{
			Name: "properties.csv", Service: "properties", Title: "Properties (LLPG)",
			Description: "One row per addressable place in the borough, from the local land and property gazetteer.",
			Kind:        Entity, Key: []string{"uprn"}, AddressBased: true,
			Columns: []Column{
				uprn(true),
				{Name: "address", Type: String, Personal: true, Required: true, Description: "Address lines, comma-separated."},
				{Name: "postcode", Type: String, Personal: true, Required: true, Description: "Postcode."},
				code("ward", "Electoral ward.", true, wards...),
				code("property_type", "Kind of dwelling.", true, "flat", "maisonette", "house", "bedsit", "hmo"),
				code("tenure", "Tenure of the dwelling.", true, "council", "housing_association", "private_rented", "owner_occupied", "temporary_accommodation"),
				{Name: "bedrooms", Type: Int, Unit: "rooms", Description: "Number of bedrooms."},
				code("council_tax_band", "Council tax valuation band.", true, "A", "B", "C", "D", "E", "F", "G", "H"),
			},
		},
		{
			Name: "council_tax.csv", Service: "council_tax", Title: "Council tax",
			Description: "Council tax account events: liability periods, discounts, payments and recovery.",
			Kind:        Events, Key: []string{"account_id", "event_date", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type", AmountColumn: "amount_gbp", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(true),
				{Name: "account_id", Type: String, Required: true, Description: "Council tax account."},
				date("event_date", "Date of the event.", true),
				code("event_type", "What happened on the account.", true,
					"liability_start", "liability_end", "discount_change", "payment", "missed_payment", "reminder", "summons", "liability_order"),
				code("discount", "Discount or exemption in force after the event.", false,
					"none", "single_person", "student", "disabled_reduction", "care_leaver"),
				money("amount_gbp", "Amount paid or charged by the event."),
				money("balance_gbp", "Account balance after the event; positive means arrears."),
			},
		},
		{
			Name: "council_tax_support.csv", Service: "council_tax_support", Title: "Council tax support",
			Description: "Council tax support (reduction) claims and changes.",
			Kind:        Events, Key: []string{"claim_id", "event_date", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type", AmountColumn: "weekly_award_gbp", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(true),
				{Name: "claim_id", Type: String, Required: true, Description: "Claim reference."},
				date("event_date", "Date of the event.", true),
				code("event_type", "Claim event.", true, "claim", "award", "change", "suspension", "termination"),
				{Name: "household_size", Type: Int, Unit: "people", Description: "Household size declared on the claim."},
				code("income_band", "Declared weekly household income band (A lowest).", false, "A", "B", "C", "D", "E"),
				money("weekly_award_gbp", "Weekly reduction awarded."),
			},
		},
		{
			Name: "housing_benefit.csv", Service: "housing_benefit", Title: "Housing benefit",
			Description: "Housing benefit claims, changes, suspensions and overpayments.",
			Kind:        Events, Key: []string{"claim_id", "event_date", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type", AmountColumn: "weekly_award_gbp", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(true),
				{Name: "claim_id", Type: String, Required: true, Description: "Claim reference."},
				date("event_date", "Date of the event.", true),
				code("event_type", "Claim event.", true, "claim", "award", "change", "suspension", "overpayment", "termination"),
				{Name: "household_size", Type: Int, Unit: "people", Description: "Household size declared on the claim."},
				money("weekly_award_gbp", "Weekly benefit awarded."),
				money("overpayment_gbp", "Overpayment found, for overpayment events."),
			},
		},
		{
			Name: "tenancies.csv", Service: "tenancies", Title: "Council tenancies",
			Description: "Council tenancies: one row per tenant per tenancy (a joint tenancy has two rows).",
			Kind:        Periods, Key: []string{"tenancy_id", "resident_id"}, EventDate: "start_date", EndDate: "end_date",
			RecordedDate: "recorded_date", TypeColumn: "tenancy_type", AddressBased: true,
			Columns: []Column{
				{Name: "tenancy_id", Type: String, Required: true, Description: "Tenancy reference."},
				residentID(), uprn(true),
				date("start_date", "Tenancy start.", true),
				date("end_date", "Tenancy end; empty while the tenancy runs.", false),
				code("tenancy_type", "Kind of tenancy.", true, "secure", "introductory", "flexible", "temporary"),
				{Name: "joint", Type: Bool, Required: true, Description: "Y for a joint tenancy."},
				code("start_reason", "How the tenancy began.", true, "new_let", "succession", "mutual_exchange", "transfer", "assignment"),
				code("end_reason", "Why the tenancy ended.", false, "surrender", "death", "eviction", "abandonment", "transfer", "recovered_fraud", "moved_out"),
				recorded(),
			},
		},
		{
			Name: "rent_account.csv", Service: "rent_account", Title: "Rent account",
			Description: "Rent account transactions and recovery actions for council tenancies (monthly).",
			Kind:        Events, Key: []string{"tenancy_id", "event_date", "event_type", "amount_gbp"}, EventDate: "event_date",
			TypeColumn: "event_type", AmountColumn: "amount_gbp", AddressBased: true,
			Columns: []Column{
				{Name: "tenancy_id", Type: String, Required: true, Description: "Tenancy reference."},
				residentID(), uprn(true),
				date("event_date", "Date of the transaction or action.", true),
				code("event_type", "Transaction or recovery action.", true,
					"charge", "payment", "arrears_letter", "notice_seeking_possession", "court_order", "eviction"),
				code("payment_method", "How a payment was made.", false,
					"direct_debit", "standing_order", "card", "cash", "bank_transfer", "housing_benefit"),
				money("amount_gbp", "Amount charged or paid."),
				money("balance_gbp", "Balance after the transaction; positive means arrears, negative means paid in advance."),
			},
		},
		{
			Name: "repairs.csv", Service: "repairs", Title: "Housing repairs",
			Description: "Repair requests and visits at council homes.",
			Kind:        Events, Key: []string{"repair_id", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				{Name: "repair_id", Type: String, Required: true, Description: "Repair job reference."},
				residentID(), uprn(true),
				date("event_date", "Date of the request or visit.", true),
				code("event_type", "Request or visit outcome.", true, "reported", "visit", "no_access", "completed"),
				code("trade", "Trade of the repair.", false, "plumbing", "electrical", "carpentry", "damp_mould", "heating", "roofing", "general"),
				code("priority", "Priority of the job.", false, "emergency", "urgent", "routine"),
			},
		},
		{
			Name: "electoral_register.csv", Service: "electoral_register", Title: "Electoral register",
			Description: "Registrations to vote: who is registered at which address, from when to when.",
			Kind:        Periods, Key: []string{"resident_id", "uprn", "registered_from"}, EventDate: "registered_from",
			EndDate: "registered_to", RecordedDate: "recorded_date", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(true),
				date("registered_from", "Start of the registration.", true),
				date("registered_to", "End of the registration; empty while registered.", false),
				code("register", "Which register (open register entries may be sold).", false, "full", "open"),
				recorded(),
			},
		},
		{
			Name: "adult_social_care.csv", Service: "adult_social_care", Title: "Adult social care",
			Description: "Contacts, assessments, services and safeguarding in adult social care.",
			Kind:        Events, Key: []string{"resident_id", "event_date", "event_type"}, EventDate: "event_date",
			RecordedDate: "recorded_date", TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(false),
				date("event_date", "Date of the contact or decision.", true),
				code("event_type", "Kind of event.", true,
					"contact", "assessment", "service_start", "service_end", "carer_assessment", "safeguarding_concern", "safeguarding_enquiry"),
				code("support_reason", "Primary support reason.", false,
					"physical", "sensory", "memory_cognition", "learning_disability", "mental_health", "social_isolation"),
				recorded(),
			},
		},
		{
			Name: "childrens_social_care.csv", Service: "childrens_social_care", Title: "Children's social care",
			Description: "Contacts, referrals, assessments, child in need, child protection and looked-after episodes.",
			Kind:        Events, Key: []string{"resident_id", "event_date", "event_type"}, EventDate: "event_date",
			RecordedDate: "recorded_date", TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(false),
				date("event_date", "Date of the contact or decision.", true),
				code("event_type", "Kind of event.", true,
					"contact", "referral", "assessment", "child_in_need", "child_protection_enquiry", "child_protection_plan", "looked_after"),
				{Name: "need_code", Type: Code, Description: "Category of need (Children in Need census).",
					Codes: []string{"abuse_neglect", "disability", "parental_illness", "family_acute_stress", "family_dysfunction", "socially_unacceptable_behaviour", "low_income", "absent_parenting", "not_stated"},
					Legacy: map[string]string{"N1": "abuse_neglect", "N2": "disability", "N3": "parental_illness", "N4": "family_acute_stress",
						"N5": "family_dysfunction", "N6": "socially_unacceptable_behaviour", "N7": "low_income", "N8": "absent_parenting", "N9": "not_stated"}},
				recorded(),
			},
		},
		{
			Name: "early_help.csv", Service: "early_help", Title: "Early help",
			Description: "Episodes of early help (family support) and how they closed.",
			Kind:        Events, Key: []string{"episode_id", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				{Name: "episode_id", Type: String, Required: true, Description: "Early help episode reference."},
				residentID(), uprn(false),
				date("event_date", "Date the episode started or closed.", true),
				code("event_type", "Start or end of the episode.", true, "episode_start", "episode_end"),
				code("closure_reason", "Why the episode closed.", false, "needs_met", "disengaged", "stepped_up", "moved_away"),
			},
		},
		{
			Name: "education.csv", Service: "education", Title: "Education",
			Description: "School records: termly attendance, exclusions, special educational needs and free school meals.",
			Kind:        Events, Key: []string{"resident_id", "event_date", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type",
			Columns: []Column{
				residentID(),
				date("event_date", "Term end for attendance; date of the decision otherwise.", true),
				code("event_type", "Kind of record.", true,
					"attendance", "suspension", "permanent_exclusion", "sen_support", "ehc_plan", "free_school_meals"),
				{Name: "attendance_pct", Type: Float, Unit: "percent", Description: "Share of possible sessions attended in the term."},
				{Name: "sessions_missed", Type: Int, Unit: "sessions", Description: "Sessions missed in the term."},
				{Name: "school_urn", Type: String, Description: "School's unique reference number."},
			},
		},
		{
			Name: "homelessness.csv", Service: "homelessness", Title: "Homelessness",
			Description: "Homelessness approaches, duties (H-CLIC) and temporary accommodation.",
			Kind:        Events, Key: []string{"case_id", "event_type", "event_date"}, EventDate: "event_date",
			RecordedDate: "recorded_date", TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				{Name: "case_id", Type: String, Required: true, Description: "Homelessness case reference."},
				residentID(), uprn(false),
				date("event_date", "Date of the approach or decision.", true),
				code("event_type", "Approach, duty or accommodation.", true,
					"approach", "prevention_duty", "relief_duty", "main_duty", "temporary_accommodation", "discharge"),
				code("reason", "Main reason for the loss of home.", false,
					"family_or_friends_evicting", "end_of_private_tenancy", "domestic_abuse", "rent_arrears", "relationship_breakdown", "other"),
				recorded(),
			},
		},
		{
			Name: "anti_social_behaviour.csv", Service: "anti_social_behaviour", Title: "Anti-social behaviour",
			Description: "Anti-social behaviour incidents, with the resident's role in each.",
			Kind:        Events, Key: []string{"incident_id", "resident_id"}, EventDate: "event_date",
			TypeColumn: "category", AddressBased: true,
			Columns: []Column{
				{Name: "incident_id", Type: String, Required: true, Description: "Incident reference."},
				residentID(), uprn(false),
				date("event_date", "Date of the incident.", true),
				code("role", "The resident's role in the incident.", true, "victim", "perpetrator", "witness", "reporter"),
				{Name: "category", Type: Code, Required: true, Description: "Kind of behaviour.",
					Codes:  []string{"noise", "harassment", "drugs", "vandalism", "violence", "nuisance_neighbour", "other"},
					Legacy: map[string]string{"NOISE": "noise", "HARASS": "harassment", "DRUG": "drugs", "CRIMDAM": "vandalism", "VIOL": "violence", "NEIGH": "nuisance_neighbour", "OTH": "other"}},
			},
		},
		{
			Name: "parking.csv", Service: "parking", Title: "Parking",
			Description: "Resident parking permits and penalty charge notices.",
			Kind:        Events, Key: []string{"resident_id", "event_date", "event_type", "vehicle_id"}, EventDate: "event_date",
			TypeColumn: "event_type", AmountColumn: "amount_gbp", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(false),
				date("event_date", "Date of the permit action or notice.", true),
				code("event_type", "Permit or penalty event.", true,
					"permit_issued", "permit_renewed", "permit_cancelled", "pcn_issued", "pcn_paid", "pcn_escalated"),
				{Name: "vehicle_id", Type: String, Description: "Pseudonymous vehicle reference."},
				money("amount_gbp", "Amount of the permit or penalty."),
			},
		},
		{
			Name: "libraries.csv", Service: "libraries", Title: "Libraries",
			Description: "Library memberships and use.",
			Kind:        Events, Key: []string{"resident_id", "event_date", "event_type", "branch"}, EventDate: "event_date",
			TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				residentID(), uprn(false),
				date("event_date", "Date of the visit or action.", true),
				code("event_type", "Kind of use.", true, "join", "loan", "renewal", "computer_session", "event_attendance"),
				code("branch", "Library branch.", false, "Swiss Cottage", "Kentish Town", "Camden Town", "Holborn", "Queen's Crescent", "Pancras Square", "West Hampstead", "Highgate"),
			},
		},
		{
			Name: "environmental_services.csv", Service: "environmental_services", Title: "Environmental services",
			Description: "Waste, street and nuisance service requests linked to an address.",
			Kind:        Events, Key: []string{"request_id"}, EventDate: "event_date",
			TypeColumn: "event_type", AddressBased: true,
			Columns: []Column{
				{Name: "request_id", Type: String, Required: true, Description: "Service request reference."},
				residentID(), uprn(true),
				date("event_date", "Date of the request.", true),
				code("event_type", "Kind of request.", true, "missed_bin", "fly_tipping_report", "noise_complaint", "bulky_waste", "pest_control"),
			},
		},
		{
			Name: "debt_recovery.csv", Service: "debt_recovery", Title: "Debt recovery",
			Description: "Sundry debts owed to the council and their recovery.",
			Kind:        Events, Key: []string{"debt_id", "event_date", "event_type"}, EventDate: "event_date",
			TypeColumn: "event_type", AmountColumn: "amount_gbp", AddressBased: true,
			Columns: []Column{
				{Name: "debt_id", Type: String, Required: true, Description: "Debt reference."},
				residentID(), uprn(false),
				date("event_date", "Date of the recovery step.", true),
				code("event_type", "Recovery step.", true, "invoice", "reminder", "payment_plan", "enforcement_agent", "payment", "write_off"),
				code("debt_type", "What the debt is for.", false, "sundry", "hb_overpayment", "parking", "council_tax", "rent_former_tenant"),
				money("amount_gbp", "Amount of the step."),
			},
		},
		{
			Name: "youth_offending.csv", Service: "youth_offending", Title: "Youth justice",
			Description: "Youth justice service referrals, disposals and interventions.",
			Kind:        Events, Key: []string{"resident_id", "event_date", "event_type"}, EventDate: "event_date",
			RecordedDate: "recorded_date", TypeColumn: "event_type",
			Columns: []Column{
				residentID(),
				date("event_date", "Date of the referral or disposal.", true),
				code("event_type", "Kind of event.", true, "referral", "out_of_court_disposal", "court_order", "intervention_end"),
				recorded(),
			},
		},
		{
			Name: "fraud_investigations.csv", Service: "fraud_investigations", Title: "Tenancy fraud investigations",
			Description: "Tenancy-fraud referrals and their outcomes: the source of the fraud model's labels. " +
				"Investigations follow referrals and data matches, not a random sample.",
			Kind: Events, Key: []string{"investigation_id"}, EventDate: "referral_date",
			TypeColumn: "outcome", AddressBased: true,
			Columns: []Column{
				{Name: "investigation_id", Type: String, Required: true, Description: "Investigation reference."},
				{Name: "tenancy_id", Type: String, Required: true, Description: "Tenancy investigated."},
				residentID(), uprn(true),
				date("referral_date", "Date of the referral.", true),
				code("referral_source", "Where the referral came from.", true, "data_match", "tip_off", "staff_referral", "audit", "national_fraud_initiative"),
				date("closed_date", "Date the investigation closed; empty while open.", false),
				code("outcome", "Outcome at closure; empty while open.", false, "fraud_confirmed", "no_fraud", "insufficient_evidence"),
				code("fraud_type", "Kind of fraud found or alleged.", false, "subletting", "non_occupation", "false_succession", "wrongful_application"),
			},
		},
	}
}
