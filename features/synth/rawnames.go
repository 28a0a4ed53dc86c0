package synth

// Name variants for the raw extracts: the nicknames, short forms and
// spelling or transliteration variants a source system may hold for a name
// instead of the form the Residents Index holds. Every given and family
// name of the generator's lists (names.go) is a key; a name with no common
// variant has an empty list and is never varied. The lists are made up
// from common English usage and common transliterations; they name no
// real person.

var givenVariants = map[string][]string{
	// Girls' and women's names.
	"Amelia": {"Millie", "Amy", "Emilia"}, "Olivia": {"Liv", "Livvy", "Olivea"}, "Isla": {"Islay", "Ila"},
	"Ava": {"Eva", "Avah"}, "Mia": {"Miah", "Mya"}, "Grace": {"Gracie"}, "Sophia": {"Sofia", "Sophie"},
	"Lily": {"Lilly", "Lili"}, "Freya": {"Freja", "Freyja"}, "Emily": {"Emilie", "Em", "Millie"},
	"Aisha": {"Ayesha", "Aishah", "Ayisha"}, "Fatima": {"Fatimah", "Fatma"}, "Maryam": {"Mariam", "Miriam", "Maryum"},
	"Zara": {"Zahra", "Zarah"}, "Priya": {"Pria", "Preeya"}, "Ananya": {"Ananyaa", "Anu"},
	"Chloe": {"Cloe", "Chloé"}, "Ruby": {"Rubie"}, "Hana": {"Hannah", "Hanna"}, "Leah": {"Lea", "Lia"},
	"Margaret": {"Maggie", "Peggy", "Meg", "Margret"}, "Patricia": {"Pat", "Trish", "Patsy"},
	"Susan": {"Sue", "Susie", "Suzanne"}, "Joan": {"Joanie", "Jo"}, "Eileen": {"Aileen", "Eilene"},
	"Abena": {"Abina"}, "Chiamaka": {"Amaka", "Chi"}, "Esi": {"Essie"}, "Maria": {"Mariah", "Marie"},
	"Sofia": {"Sophia", "Sofie"}, "Nadia": {"Nadya", "Nadiya"}, "Yasmin": {"Yasmine", "Yasmeen", "Jasmine"},
	"Elif": {}, "Ayla": {"Aylah", "Aila"}, "Bethany": {"Beth", "Bethanie"}, "Keisha": {"Kesha", "Keysha"},
	"Tanisha": {"Tanesha", "Tish"}, "Rosa": {"Rose", "Rosie"}, "Ines": {"Inez", "Inès"}, "Mei": {"May"},
	// Boys' and men's names.
	"Oliver": {"Ollie", "Olly"}, "George": {"Georgie"}, "Noah": {"Noa"}, "Arthur": {"Art", "Artie"},
	"Leo": {"Leon"}, "Harry": {"Harri", "Harold"}, "Oscar": {"Ozzy", "Oskar"}, "Jack": {"Jak", "Jackie"},
	"Theo": {"Theodore", "Teo"}, "Henry": {"Harry", "Hal"},
	"Muhammad": {"Mohammed", "Mohamed", "Mohammad", "Muhammed", "Mohd"}, "Ali": {"Aly"},
	"Omar": {"Umar", "Omer"}, "Yusuf": {"Yousef", "Yusef", "Youssef"}, "Arjun": {"Arjan"}, "Rohan": {"Rohann"},
	"Ibrahim": {"Ibraheem", "Ebrahim"}, "Adam": {"Adem"}, "Kwame": {"Kwami"}, "Kofi": {"Koffi"},
	"David": {"Dave", "Davey"}, "John": {"Jon", "Johnny", "Jack"}, "Michael": {"Mike", "Mick", "Micky"},
	"Peter": {"Pete"}, "Brian": {"Bryan"}, "Tunde": {"Babatunde"}, "Chinedu": {"Nedu"}, "Marco": {"Marc", "Marko"},
	"Luca": {"Luka", "Lucas"}, "Mateus": {"Mateo", "Matheus"}, "Samir": {"Sameer", "Sammy"}, "Hassan": {"Hasan"},
	"Emre": {}, "Can": {}, "Liam": {"William"}, "Tyrone": {"Ty"}, "Jamal": {"Jamaal", "Jamel"},
	"Diego": {}, "Tomasz": {"Tomek", "Thomas", "Tom"}, "Wei": {},
}

var familyVariants = map[string][]string{
	"Smith": {"Smyth"}, "Jones": {}, "Taylor": {"Tayler"}, "Brown": {"Browne"}, "Williams": {"William"},
	"Wilson": {"Willson"}, "Johnson": {"Johnston", "Jonson"}, "Davies": {"Davis"}, "Patel": {}, "Khan": {"Kahn"},
	"Ahmed": {"Ahmad", "Ahmet"}, "Hussain": {"Hussein", "Husain", "Hossain"}, "Begum": {"Begam", "Begom"},
	"Ali": {"Aly"}, "Singh": {}, "Shah": {"Sha"}, "Okafor": {}, "Mensah": {"Mensa"}, "Adeyemi": {}, "Owusu": {},
	"Murphy": {"Murphey"}, "O'Brien": {"O'Brian", "O'Bryan"}, "Kelly": {"Kelley"}, "Walsh": {"Walshe", "Welsh"},
	"Rossi": {"Rosi"}, "Silva": {"Da Silva", "De Silva"}, "Santos": {"Dos Santos"}, "Kowalski": {"Kowalsky"},
	"Nowak": {"Novak"}, "Yilmaz": {"Yılmaz"}, "Demir": {}, "Chen": {}, "Wang": {"Wong"}, "Li": {"Lee"},
	"Nguyen": {"Nguyễn"}, "Evans": {}, "Thomas": {"Tomas"}, "Roberts": {"Robert"}, "Clarke": {"Clark"},
	"Hughes": {"Hughs"}, "Green": {"Greene"}, "Hall": {}, "Wood": {"Woods"}, "Campbell": {"Cambell"},
	"Stewart": {"Stuart"}, "Bennett": {"Bennet"}, "Mahmood": {"Mahmud", "Mehmood", "Mahmoud"},
	"Rahman": {"Rehman", "Rahaman"}, "Uddin": {"Udin"}, "Miah": {"Mia", "Meah"},
}

// addressAbbrev lists the address words a source may abbreviate.
var addressAbbrev = [][2]string{
	{"Road", "Rd"}, {"Street", "St"}, {"Avenue", "Ave"}, {"Lane", "Ln"}, {"Crescent", "Cres"},
	{"Grove", "Gr"}, {"Square", "Sq"}, {"Estate", "Est"}, {"Place", "Pl"}, {"Circus", "Circ"},
}
