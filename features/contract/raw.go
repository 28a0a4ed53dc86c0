package contract

// Raw extracts. Before record linkage there is no Residents Index: each
// source system (council tax, housing, social care, ...) holds its own person
// records under its own identifiers, with its own spelling of names,
// addresses and dates of birth. A raw directory holds, for every source:
//
//	<service>.csv         the service's rows: the contract file with
//	                      resident_id replaced by record_id (RawFile)
//	<service>_people.csv  the source's person records (RawPeople)
//
// and properties.csv, the gazetteer, as in the joined data. There is no
// residents.csv or residences.csv: those are what linkage produces.
// `caserisk generate --raw` writes such a directory under raw/ with the
// truth in oracle/links.csv (RawLinksHeader); `caserisk link` reads one.

// RawRecordID is the column of a raw file that names the source's own
// person record.
const RawRecordID = "record_id"

// RawLinksFile is the oracle file, relative to a generated borough's
// directory, mapping every raw person record to its true resident.
const RawLinksFile = "oracle/links.csv"

// RawLinksHeader is the header of RawLinksFile: the source (a service key),
// the source's record id, and the true resident_id.
func RawLinksHeader() []string { return []string{"source", RawRecordID, "resident_id"} }

func recordID() Column {
	return Column{Name: RawRecordID, Type: String, Required: true,
		Description: "The source system's own identifier of the person record the row is about."}
}

// RawSources returns the files that come from a source system holding its
// own person records: every file with a resident_id column except the
// index's own residents and residences, in contract order.
func (c *Contract) RawSources() []*File {
	var out []*File
	for i := range c.Files {
		f := &c.Files[i]
		if f.Service == "residents" || f.Service == "residences" {
			continue
		}
		if _, ok := f.Column("resident_id"); ok {
			out = append(out, f)
		}
	}
	return out
}

// RawFiles returns every file a raw directory may hold, in contract
// order: properties.csv, and for each raw source its people file and its
// service file (RawPeople, RawFile).
func (c *Contract) RawFiles() []*File {
	var out []*File
	if f, ok := c.File("properties.csv"); ok {
		out = append(out, f)
	}
	for _, f := range c.RawSources() {
		out = append(out, RawPeople(f), RawFile(f))
	}
	return out
}

// RawFile returns the raw form of a source file: the same name, service,
// time semantics and columns, with resident_id replaced by record_id (in
// the columns and the row key).
func RawFile(f *File) *File {
	r := *f
	r.Columns = make([]Column, len(f.Columns))
	for i, col := range f.Columns {
		if col.Name == "resident_id" {
			col = recordID()
		}
		r.Columns[i] = col
	}
	r.Key = make([]string, len(f.Key))
	for i, k := range f.Key {
		if k == "resident_id" {
			k = RawRecordID
		}
		r.Key[i] = k
	}
	return &r
}

// RawPeople returns the schema of a source's person records,
// <service>_people.csv. Which columns a source fills depends on the source:
// a library holds no date of death, an electoral register no ethnicity.
// Every value is as the source holds it, errors and all; only the coded
// columns are checked against their code lists.
func RawPeople(f *File) *File {
	return &File{
		Name:    f.Service + "_people.csv",
		Service: f.Service + "_people",
		Title:   f.Title + ": person records",
		Description: "The person records of the " + f.Title + " system, as it holds them: " +
			"its own identifiers and its own spelling of each person's details.",
		Kind: Entity,
		Key:  []string{RawRecordID},
		Columns: []Column{
			recordID(),
			{Name: "given_name", Type: String, Personal: true, Description: "Given name(s) as the source holds them."},
			{Name: "family_name", Type: String, Personal: true, Description: "Family name as the source holds it."},
			{Name: "date_of_birth", Type: Date, Personal: true, Description: "Date of birth as the source holds it."},
			code("sex", "Sex as recorded.", false, "F", "M"),
			{Name: "address", Type: String, Personal: true, Description: "Address lines, comma-separated, as the source holds them (possibly an old address)."},
			{Name: "postcode", Type: String, Personal: true, Description: "Postcode as the source holds it."},
			{Name: "uprn", Type: Int, Description: "UPRN of the address, where the source holds one."},
			{Name: "ni_number", Type: String, Personal: true, Description: "National Insurance number, where the source holds one."},
			{Name: "ethnic_group", Type: Code, Protected: true, Description: "ONS high-level ethnic group, where the source records it.",
				Codes: []string{"white", "asian", "black", "mixed", "other", "not_recorded"}},
			{Name: "disability", Type: Code, Protected: true, Description: "Disability, where the source records it.",
				Codes: []string{"Y", "N", "not_recorded"}},
			date("date_of_death", "Date of death, where the source holds one.", false),
			date("death_recorded_date", "The date the source recorded the death.", false),
		},
	}
}
