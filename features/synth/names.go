package synth

// Small embedded lists for synthetic names and addresses. Every name and
// address the generator writes is made up from these; no real person or
// address is used.

var givenF = []string{
	"Amelia", "Olivia", "Isla", "Ava", "Mia", "Grace", "Sophia", "Lily", "Freya", "Emily",
	"Aisha", "Fatima", "Maryam", "Zara", "Priya", "Ananya", "Chloe", "Ruby", "Hana", "Leah",
	"Margaret", "Patricia", "Susan", "Joan", "Eileen", "Abena", "Chiamaka", "Esi", "Maria", "Sofia",
	"Nadia", "Yasmin", "Elif", "Ayla", "Bethany", "Keisha", "Tanisha", "Rosa", "Ines", "Mei",
}

var givenM = []string{
	"Oliver", "George", "Noah", "Arthur", "Leo", "Harry", "Oscar", "Jack", "Theo", "Henry",
	"Muhammad", "Ali", "Omar", "Yusuf", "Arjun", "Rohan", "Ibrahim", "Adam", "Kwame", "Kofi",
	"David", "John", "Michael", "Peter", "Brian", "Tunde", "Chinedu", "Marco", "Luca", "Mateus",
	"Samir", "Hassan", "Emre", "Can", "Liam", "Tyrone", "Jamal", "Diego", "Tomasz", "Wei",
}

var family = []string{
	"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan",
	"Ahmed", "Hussain", "Begum", "Ali", "Singh", "Shah", "Okafor", "Mensah", "Adeyemi", "Owusu",
	"Murphy", "O'Brien", "Kelly", "Walsh", "Rossi", "Silva", "Santos", "Kowalski", "Nowak", "Yilmaz",
	"Demir", "Chen", "Wang", "Li", "Nguyen", "Evans", "Thomas", "Roberts", "Clarke", "Hughes",
	"Green", "Hall", "Wood", "Campbell", "Stewart", "Bennett", "Mahmood", "Rahman", "Uddin", "Miah",
}

var streets = []string{
	"Agar Grove", "Albert Street", "Arlington Road", "Bayham Street", "Belsize Road", "Bartholomew Road",
	"Castle Road", "Chalcot Road", "Charlton Street", "Chester Road", "Cressy Road", "Dartmouth Park Road",
	"Delancey Street", "Eversholt Street", "Fortess Road", "Gaisford Street", "Gloucester Avenue",
	"Grafton Road", "Haverstock Hill", "Highgate Road", "Inkerman Road", "Islip Street", "Leighton Road",
	"Lismore Circus", "Malden Road", "Mansfield Road", "Maitland Park Road", "Ossulston Street",
	"Patshull Road", "Prince of Wales Road", "Queen's Crescent", "Royal College Street", "Rochester Road",
	"Spencer Rise", "Swain's Lane", "Torriano Avenue", "Weedington Road", "Wellesley Road", "York Way",
	"Kilburn Vale", "Abbey Road", "Fortune Green Road", "Mill Lane", "Sumatra Road", "Frognal Lane",
}

// Estate names for council blocks.
var estates = []string{
	"Regent's Park Estate", "Maiden Lane Estate", "Gospel Oak Estate", "Kiln Place", "Ampthill Square",
	"Somers Town Estate", "Alexandra Road Estate", "Webheath Estate", "Whittington Estate", "Denton Estate",
	"Harmood Estate", "Queen's Crescent Estate", "Abbey Estate", "Bourne Estate", "Holly Lodge Estate",
}

// postcode districts by ward, in contract.Wards() order.
var wardDistricts = [][]string{
	{"NW3"}, {"WC1H", "WC1B"}, {"NW1"}, {"NW1"}, {"NW6", "NW2"},
	{"NW3"}, {"NW5", "NW3"}, {"NW3"}, {"NW5", "NW3"}, {"N6", "N19"},
	{"WC2H", "WC1V"}, {"NW5"}, {"NW5"},
	{"NW6"}, {"N1C", "WC1X"}, {"NW1", "NW3"}, {"NW1"},
	{"NW6", "NW3"}, {"NW1"}, {"NW6"},
}

// wardDeprivation is a relative deprivation level per ward (−1 least to
// +1 most deprived), in contract.Wards() order. It raises the share of
// social housing and the households' financial stress.
var wardDeprivation = []float64{
	-0.6, 0.1, 0.3, 0.4, -0.2,
	-0.9, 0.7, -0.9, 0.6, -0.5,
	0.2, 0.4, 0.3,
	0.6, 0.8, -0.4, 0.8,
	-0.2, 0.9, -0.2,
}

var libraryBranches = []string{"Swiss Cottage", "Kentish Town", "Camden Town", "Holborn", "Queen's Crescent", "Pancras Square", "West Hampstead", "Highgate"}

const postcodeLetters = "ABDEFGHJLNPQRSTUWXYZ"
