package synth

// Small embedded lists for synthetic names and addresses. Every name and
// address the generator writes is made up from these; no real person or
// address is used. The name lists are common names of a London borough's
// communities (about 150 given names a sex and 300 family names, drawn
// uniformly): enough that a name and a date of birth rarely pick out two
// people, as in life, which record linkage depends on.

var givenF = []string{
	"Amelia", "Olivia", "Isla", "Ava", "Mia", "Grace", "Sophia", "Lily", "Freya", "Emily", "Aisha",
	"Fatima", "Maryam", "Zara", "Priya", "Ananya", "Chloe", "Ruby", "Hana", "Leah", "Margaret",
	"Patricia", "Susan", "Joan", "Eileen", "Abena", "Chiamaka", "Esi", "Maria", "Sofia", "Nadia",
	"Yasmin", "Elif", "Ayla", "Bethany", "Keisha", "Tanisha", "Rosa", "Ines", "Mei", "Evie", "Poppy",
	"Ella", "Charlotte", "Isabella", "Daisy", "Alice", "Florence", "Phoebe", "Matilda", "Rosie",
	"Evelyn", "Sienna", "Harper", "Willow", "Maya", "Layla", "Eleanor", "Ivy", "Elsie", "Jessica",
	"Hannah", "Sarah", "Rebecca", "Laura", "Rachel", "Natalie", "Helen", "Claire", "Karen", "Julie",
	"Deborah", "Angela", "Linda", "Barbara", "Dorothy", "Jean", "Pauline", "Brenda", "Valerie",
	"Khadija", "Amina", "Halima", "Safiya", "Zainab", "Ruqayyah", "Nusrat", "Shirin", "Rukhsana",
	"Farhana", "Anjali", "Deepa", "Kavita", "Sunita", "Meera", "Pooja", "Shreya", "Divya", "Nisha",
	"Lakshmi", "Adaeze", "Ngozi", "Funmilayo", "Folake", "Yetunde", "Ama", "Akosua", "Efua",
	"Comfort", "Blessing", "Shanice", "Tiana", "Jade", "Chantelle", "Monique", "Aaliyah", "Simone",
	"Latoya", "Precious", "Marcia", "Agnieszka", "Katarzyna", "Magdalena", "Joanna", "Zeynep",
	"Merve", "Ebru", "Ana", "Beatriz", "Mariana", "Giulia", "Francesca", "Chiara", "Elena", "Lucia",
	"Xin", "Ying", "Lan", "Thuy", "Linh", "Siobhan", "Niamh", "Aoife", "Roisin", "Ciara", "Sinead",
	"Hodan", "Ayan", "Fadumo", "Sagal",
}

var givenM = []string{
	"Oliver", "George", "Noah", "Arthur", "Leo", "Harry", "Oscar", "Jack", "Theo", "Henry",
	"Muhammad", "Ali", "Omar", "Yusuf", "Arjun", "Rohan", "Ibrahim", "Adam", "Kwame", "Kofi", "David",
	"John", "Michael", "Peter", "Brian", "Tunde", "Chinedu", "Marco", "Luca", "Mateus", "Samir",
	"Hassan", "Emre", "Can", "Liam", "Tyrone", "Jamal", "Diego", "Tomasz", "Wei", "Charlie",
	"Freddie", "Alfie", "Archie", "Jacob", "Thomas", "James", "William", "Joshua", "Max", "Lucas",
	"Ethan", "Isaac", "Edward", "Samuel", "Joseph", "Daniel", "Benjamin", "Alexander", "Sebastian",
	"Richard", "Paul", "Mark", "Andrew", "Stephen", "Christopher", "Robert", "Anthony", "Kevin",
	"Gary", "Ahmed", "Hamza", "Bilal", "Zain", "Idris", "Ismail", "Abdul", "Rashid", "Imran", "Tariq",
	"Aarav", "Vikram", "Sanjay", "Rajesh", "Anil", "Suresh", "Kiran", "Nikhil", "Amit", "Ravi",
	"Chukwuemeka", "Obinna", "Emeka", "Oluwaseun", "Femi", "Kwabena", "Yaw", "Kojo", "Ebo", "Segun",
	"Marcus", "Jermaine", "Dwayne", "Leroy", "Delroy", "Andre", "Darnell", "Kareem", "Malik",
	"Trevor", "Piotr", "Krzysztof", "Pawel", "Mehmet", "Mustafa", "Ahmet", "Joao", "Pedro", "Rafael",
	"Tiago", "Giuseppe", "Alessandro", "Matteo", "Lorenzo", "Nikos", "Giorgos", "Hao", "Jun", "Minh",
	"Duc", "Sean", "Ciaran", "Declan", "Padraig", "Conor", "Eoin", "Abdi", "Mohamud", "Farah",
	"Liban",
}

var family = []string{
	"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan",
	"Ahmed", "Hussain", "Begum", "Ali", "Singh", "Shah", "Okafor", "Mensah", "Adeyemi", "Owusu",
	"Murphy", "O'Brien", "Kelly", "Walsh", "Rossi", "Silva", "Santos", "Kowalski", "Nowak", "Yilmaz",
	"Demir", "Chen", "Wang", "Li", "Nguyen", "Evans", "Thomas", "Roberts", "Clarke", "Hughes",
	"Green", "Hall", "Wood", "Campbell", "Stewart", "Bennett", "Mahmood", "Rahman", "Uddin", "Miah",
	"Robinson", "Wright", "Thompson", "White", "Walker", "Edwards", "Turner", "Hill", "Lewis",
	"Harris", "Martin", "Jackson", "Cooper", "Ward", "Morris", "King", "Baker", "Harrison", "Morgan",
	"Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bell", "Young",
	"Griffiths", "Mitchell", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Shaw", "Lee",
	"Marshall", "Simpson", "Ellis", "Mason", "Gray", "Webb", "Rogers", "Russell", "Cox", "Hunt",
	"Holmes", "Palmer", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Barker", "Fisher", "Stevens",
	"Jenkins", "Dixon", "Fletcher", "Grant", "Murray", "Pearson", "Pearce", "Gibson", "Howard",
	"Matthews", "Foster", "Reid", "Lawrence", "Powell", "Chapman", "Sutton", "Holland", "Gordon",
	"Fox", "Rose", "Burton", "Dawson", "Armstrong", "Harvey", "Hunter", "Spencer", "Moore",
	"Atkinson", "Francis", "Byrne", "Ryan", "O'Connor", "O'Neill", "Doyle", "McCarthy", "Gallagher",
	"Doherty", "Kennedy", "Lynch", "Quinn", "Brennan", "Fitzgerald", "Nolan", "Flynn", "Donnelly",
	"Sullivan", "Connolly", "Reilly", "Dunne", "Sharma", "Kumar", "Gupta", "Mehta", "Desai", "Joshi",
	"Chauhan", "Kaur", "Gill", "Sandhu", "Sidhu", "Dhillon", "Bains", "Malik", "Iqbal", "Akhtar",
	"Aziz", "Butt", "Qureshi", "Siddiqui", "Chowdhury", "Islam", "Hoque", "Sarkar", "Khatun", "Akter",
	"Alam", "Karim", "Haque", "Bibi", "Okonkwo", "Eze", "Nwosu", "Obi", "Adebayo", "Ogunleye",
	"Olawale", "Afolabi", "Balogun", "Bello", "Boateng", "Asante", "Appiah", "Darko", "Osei", "Amoah",
	"Agyeman", "Acheampong", "Addo", "Annan", "Mohamed", "Abdullahi", "Hassan", "Warsame", "Omar",
	"Jama", "Egal", "Nur", "Aden", "Ismail", "Morrison", "Henry", "Samuels", "Forbes", "Gayle",
	"Wisniewski", "Wojcik", "Kaminski", "Lewandowski", "Zielinski", "Szymanski", "Wozniak",
	"Dabrowski", "Mazur", "Krawczyk", "Kaya", "Sahin", "Celik", "Aydin", "Ozturk", "Arslan", "Dogan",
	"Kilic", "Aslan", "Cetin", "Ferreira", "Pereira", "Costa", "Oliveira", "Rodrigues", "Martins",
	"Sousa", "Fernandes", "Goncalves", "Gomes", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano",
	"Colombo", "Ricci", "Marino", "Greco", "Bruno", "Papadopoulos", "Georgiou", "Christodoulou",
	"Constantinou", "Nicolaou", "Ioannou", "Charalambous", "Andreou", "Demetriou", "Savva", "Zhang",
	"Liu", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Tran", "Le", "Pham", "Hoang",
	"Vu", "Dang", "Bui", "Do", "Ngo", "Duong", "Garcia", "Martinez", "Lopez", "Gonzalez", "Hernandez",
	"Perez", "Sanchez", "Ramirez", "Torres", "Flores", "Cohen", "Levy", "Friedman", "Goldberg",
	"Katz", "Rosen", "Klein", "Weiss", "Schwartz", "Stein",
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
