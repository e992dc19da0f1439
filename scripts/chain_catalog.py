"""A chain-scale sample feed (`make_sample_catalog.py --chain DIR`): products.csv, stores.csv
and stock.csv in the full-feed format of docs/catalog.md.

Deterministic (one seed): 16,500 products from 550 brands in 30 categories, 500 stores in 200
Indian cities (the metros with a dozen, most towns with one or two), each store stocking
1,500 to 4,500 SKUs. Names, model numbers and prices are plausible, not real listings.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

PRODUCTS = 16_500
STORES = 500

# category: (price low, price high, noun, spec templates, brand pool size)
CATEGORIES: dict[str, tuple[int, int, str, list[tuple[str, list[str]]]]] = {
    "tv": (
        9_990,
        349_990,
        "TV",
        [
            ("screen", ["32 inch", "43 inch", "50 inch", "55 inch", "65 inch", "75 inch"]),
            ("panel", ["LED", "QLED", "OLED", "Mini LED"]),
        ],
    ),
    "ac": (
        24_990,
        89_990,
        "Air Conditioner",
        [("capacity", ["1 ton", "1.5 ton", "2 ton"]), ("type", ["split inverter", "window"])],
    ),
    "refrigerator": (
        11_990,
        189_990,
        "Refrigerator",
        [
            ("capacity", ["190 L", "236 L", "340 L", "467 L", "650 L"]),
            ("doors", ["single door", "double door", "side by side"]),
        ],
    ),
    "washing_machine": (
        12_990,
        79_990,
        "Washing Machine",
        [("capacity", ["6.5 kg", "7 kg", "8 kg", "9 kg"]), ("loading", ["front load", "top load"])],
    ),
    "microwave": (
        4_990,
        32_990,
        "Microwave Oven",
        [("capacity", ["20 L", "23 L", "28 L", "32 L"]), ("type", ["solo", "grill", "convection"])],
    ),
    "headphones": (
        799,
        34_990,
        "Headphones",
        [("type", ["over-ear", "on-ear", "in-ear"]), ("connection", ["wireless", "wired"])],
    ),
    "earbuds": (
        999,
        24_990,
        "Earbuds",
        [("anc", ["ANC", "no ANC"]), ("battery", ["30 h", "40 h", "50 h"])],
    ),
    "speaker": (
        1_499,
        49_990,
        "Speaker",
        [("output", ["10 W", "20 W", "40 W", "100 W"]), ("connection", ["Bluetooth", "Wi-Fi"])],
    ),
    "soundbar": (
        4_990,
        99_990,
        "Soundbar",
        [("channels", ["2.1", "3.1", "5.1", "7.1.2"]), ("output", ["120 W", "300 W", "600 W"])],
    ),
    "phone": (
        6_999,
        159_990,
        "Smartphone",
        [
            ("storage", ["64 GB", "128 GB", "256 GB", "512 GB"]),
            ("ram", ["4 GB", "6 GB", "8 GB", "12 GB"]),
        ],
    ),
    "tablet": (
        9_999,
        119_990,
        "Tablet",
        [
            ("screen", ["8.7 inch", "10.9 inch", "11 inch", "12.9 inch"]),
            ("storage", ["64 GB", "128 GB", "256 GB"]),
        ],
    ),
    "laptop": (
        24_990,
        249_990,
        "Laptop",
        [
            ("cpu", ["Core i3", "Core i5", "Core i7", "Ryzen 5", "Ryzen 7"]),
            ("ram", ["8 GB", "16 GB", "32 GB"]),
        ],
    ),
    "monitor": (
        6_990,
        89_990,
        "Monitor",
        [
            ("screen", ["22 inch", "24 inch", "27 inch", "32 inch"]),
            ("resolution", ["FHD", "QHD", "4K"]),
        ],
    ),
    "printer": (
        3_499,
        39_990,
        "Printer",
        [("type", ["ink tank", "laser", "inkjet"]), ("functions", ["print", "print scan copy"])],
    ),
    "smartwatch": (
        1_499,
        89_990,
        "Smartwatch",
        [("screen", ["1.4 inch", "1.8 inch", "1.96 inch"]), ("gps", ["GPS", "no GPS"])],
    ),
    "camera": (
        29_990,
        349_990,
        "Camera",
        [("sensor", ["APS-C", "full frame"]), ("megapixels", ["24 MP", "33 MP", "45 MP"])],
    ),
    "water_purifier": (
        7_999,
        39_990,
        "Water Purifier",
        [("technology", ["RO", "RO+UV", "UV+UF"]), ("capacity", ["7 L", "8 L", "10 L"])],
    ),
    "air_purifier": (
        5_999,
        59_990,
        "Air Purifier",
        [
            ("coverage", ["300 sq ft", "500 sq ft", "800 sq ft"]),
            ("filter", ["HEPA", "HEPA + carbon"]),
        ],
    ),
    "vacuum_cleaner": (
        3_999,
        89_990,
        "Vacuum Cleaner",
        [
            ("type", ["robot", "cordless stick", "canister"]),
            ("power", ["800 W", "1200 W", "1600 W"]),
        ],
    ),
    "mixer_grinder": (
        2_499,
        14_990,
        "Mixer Grinder",
        [("power", ["500 W", "750 W", "1000 W"]), ("jars", ["3 jars", "4 jars"])],
    ),
    "air_fryer": (
        3_999,
        19_990,
        "Air Fryer",
        [("capacity", ["4.2 L", "5.5 L", "6.2 L"]), ("control", ["digital", "manual"])],
    ),
    "induction_cooktop": (
        1_999,
        7_990,
        "Induction Cooktop",
        [("power", ["1600 W", "2000 W", "2100 W"]), ("control", ["touch", "push button"])],
    ),
    "geyser": (
        4_499,
        24_990,
        "Water Heater",
        [("capacity", ["10 L", "15 L", "25 L"]), ("type", ["storage", "instant"])],
    ),
    "ceiling_fan": (
        1_999,
        12_990,
        "Ceiling Fan",
        [("sweep", ["1200 mm", "1400 mm"]), ("motor", ["BLDC", "induction"])],
    ),
    "dishwasher": (
        24_990,
        79_990,
        "Dishwasher",
        [("place_settings", ["8", "12", "14"]), ("type", ["freestanding", "built-in"])],
    ),
    "chimney": (
        7_990,
        49_990,
        "Kitchen Chimney",
        [("suction", ["1100 m3/h", "1350 m3/h", "1500 m3/h"]), ("width", ["60 cm", "90 cm"])],
    ),
    "iron": (
        799,
        6_990,
        "Steam Iron",
        [("power", ["1250 W", "1600 W", "2400 W"]), ("type", ["steam", "dry"])],
    ),
    "trimmer": (
        799,
        7_990,
        "Trimmer",
        [("runtime", ["60 min", "90 min", "120 min"]), ("blades", ["stainless steel", "titanium"])],
    ),
    "gaming_console": (
        29_990,
        69_990,
        "Gaming Console",
        [("storage", ["512 GB", "825 GB", "1 TB"]), ("edition", ["disc", "digital"])],
    ),
    "router": (
        1_299,
        29_990,
        "Wi-Fi Router",
        [
            ("standard", ["Wi-Fi 5", "Wi-Fi 6", "Wi-Fi 7"]),
            ("speed", ["1200 Mbps", "3000 Mbps", "5400 Mbps"]),
        ],
    ),
}
REAL_BRANDS = """Samsung LG Sony Panasonic Philips Whirlpool Godrej Haier Voltas Blue_Star
Daikin Hitachi
Carrier Lloyd IFB Bosch Siemens Onida Videocon TCL Hisense Xiaomi OnePlus Realme Vivo Oppo Apple
Motorola Nokia iQOO Poco Nothing Google Lenovo HP Dell Asus Acer MSI Microsoft Canon Nikon Fujifilm
Epson Brother boAt JBL Bose Sennheiser Marshall Noise Fire-Boltt Amazfit Garmin Fitbit Bajaj
Havells Crompton Usha Orient Atomberg Prestige Pigeon Butterfly Preethi Sujata Morphy_Richards
Kent Aquaguard Livpure AO_Smith Racold V-Guard Faber Elica Hindware Kaff Eureka_Forbes Dyson
Agaro Inalsa Wonderchef Kenstar Sharp Toshiba Mi TP-Link D-Link Netgear Tenda Logitech Zebronics
Portronics Ambrane Mivi Skullcandy Audio-Technica Beats Ultimate_Ears Harman_Kardon Yamaha
Denon Polk Sansui Thomson Kodak Infinix Tecno Lava Micromax Honor Huawei Redmi Nintendo Xbox
PlayStation Beko Electrolux Midea Cruise Sanyo Vu Acerpure Coway Sharp_Plasmacluster Black+Decker
Nova Syska Braun Remington Wipro Anchor Luminous Polycab Kelvinator Intex Blaupunkt Ambrane
Zebronics Lumix GoPro DJI Insta360 Belkin
Corsair HyperX Razer SteelSeries Redgear Cosmic_Byte""".split()
SYLLABLES = "ka ri no va te lu mi so ra zen tro vi ax on el ix qu an dy ne ko sh ar ve".split()
CITIES = """Mumbai Delhi Bengaluru Hyderabad Chennai Kolkata Pune Ahmedabad Surat Jaipur
Lucknow Kanpur
Nagpur Indore Thane Bhopal Visakhapatnam Patna Vadodara Ghaziabad Ludhiana Agra Nashik Faridabad
Meerut Rajkot Varanasi Srinagar Aurangabad Dhanbad Amritsar Navi_Mumbai Prayagraj Ranchi Howrah
Coimbatore Jabalpur Gwalior Vijayawada Jodhpur Madurai Raipur Kota Guwahati Chandigarh Solapur
Hubballi Tiruchirappalli Bareilly Mysuru Tiruppur Gurugram Aligarh Jalandhar Bhubaneswar Salem
Warangal Guntur Bhiwandi Saharanpur Gorakhpur Bikaner Amravati Noida Jamshedpur Bhilai Cuttack
Firozabad Kochi Nellore Bhavnagar Dehradun Durgapur Asansol Rourkela Nanded Kolhapur Ajmer Akola
Gulbarga Jamnagar Ujjain Loni Siliguri Jhansi Ulhasnagar Jammu Sangli Mangaluru Erode Belagavi
Ambattur Tirunelveli Malegaon Gaya Thiruvananthapuram Udaipur Kakinada Davanagere Kozhikode
Maheshtala Rajpur_Sonarpur Bokaro Bellary Patiala Agartala Bhagalpur Muzaffarnagar Bhatpara
Panihati Latur Dhule Tirupati Rohtak Korba Bhilwara Berhampur Muzaffarpur Ahmednagar Mathura
Kollam Avadi Kadapa Kamarhati Sambalpur Bilaspur Shahjahanpur Satara Bijapur Rampur Shivamogga
Chandrapur Junagadh Thrissur Alwar Bardhaman Kulti Nizamabad Parbhani Tumakuru Khammam Uzhavarkarai
Bihar_Sharif Panipat Darbhanga Bally Aizawl Dewas Ichalkaranji Karnal Bathinda Jalna Eluru
Barasat Kirari_Suleman_Nagar Purnia Satna Mau Sonipat Farrukhabad Sagar Durg Imphal Ratlam Hapur
Arrah Anantapur Karimnagar Etawah Ambarnath Bharatpur Begusarai Gandhidham Baranagar Tiruvottiyur
Puducherry Sikar Thoothukudi Rewa Mirzapur Raichur Pali Ramagundam Haridwar Vijayanagaram Katihar
Nagercoil Sri_Ganganagar Karawal_Nagar Mango Thanjavur Bulandshahr Uluberia Murwara Sambhal
Singrauli Nadiad Secunderabad Naihati Yamunanagar Bidhannagar Pallavaram Bidar Munger Panchkula
Burhanpur Raurkela_Industrial_Township Kharagpur Dindigul Gandhinagar Hospet Nangloi_Jat Malda
Ongole Deoghar Chapra Haldia Khandwa Nandyal Morena Amroha Anand Bhind Bhalswa_Jahangir_Pur
Madhyamgram Bhiwani Berhampore Ambala Morbi Fatehpur Raebareli Khora Chittoor Bhusawal Orai
Bahraich Phusro Vellore Mehsana Raiganj Sirsa Danapur Serampore Sultan_Pur_Majra Guna Jaunpur
Panvel Shivpuri Surendranagar Unnao Chinsurah Alappuzha Kottayam Machilipatnam Shimla Adoni
Udupi Tenali Proddatur Saharsa Hindupur Sasaram Hajipur Bhimavaram Kumbakonam Dehri Madanapalle
Siwan Bettiah Guntakal Srikakulam Motihari Dharmavaram Gudivada Phagwara Pudukkottai Hosur
Narasaraopet Suryapet Miryalaguda Tadipatri Karaikudi Kishanganj Jamalpur Ballia Kavali
Tadepalligudem Amaravati Buxar Jehanabad Aurangabad_Bihar Gangtok""".split()
AREAS = """MG Road|Station Road|Civil Lines|Main Market|City Centre Mall|Phoenix Mall|Ring Road|
Sector 18|Camp|Nehru Place|Park Street|Anna Nagar|Banjara Hills|Koramangala|Andheri West|Salt Lake|
Viman Nagar|Navrangpura|Gomti Nagar|Indiranagar|Jubilee Hills|T Nagar|Powai|Whitefield|Hinjewadi|
Vashi|Karol Bagh|Rajouri Garden|Bandra West|Malad|Thane West|Lajpat Nagar|Saket|Dwarka|Velachery|
Gachibowli|Kukatpally|Electronic City|Jayanagar|Koregaon Park|Aundh|Satellite|Vastrapur|Hazratganj|
Alkapuri|Sadar Bazaar|Model Town|Residency Road|Mall Road|Bus Stand Road""".replace("\n", "").split(
    "|"
)
BIG = {
    "Mumbai": 14,
    "Delhi": 14,
    "Bengaluru": 12,
    "Hyderabad": 10,
    "Chennai": 10,
    "Kolkata": 9,
    "Pune": 9,
    "Ahmedabad": 7,
    "Surat": 5,
    "Jaipur": 5,
    "Lucknow": 5,
    "Gurugram": 5,
    "Noida": 5,
    "Thane": 4,
    "Navi_Mumbai": 4,
    "Kochi": 4,
    "Chandigarh": 4,
    "Indore": 4,
    "Nagpur": 4,
    "Coimbatore": 4,
    "Bhopal": 3,
    "Visakhapatnam": 3,
    "Vadodara": 3,
    "Patna": 3,
    "Ghaziabad": 3,
}


def brands(rng: random.Random) -> list[str]:
    names = [b.replace("_", " ") for b in dict.fromkeys(REAL_BRANDS)]
    while len(names) < 550:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice([2, 3]))).capitalize()
        if name not in names:
            names.append(name)
    return names


def write_chain(folder: Path, seed: int = 20261207) -> tuple[int, int, int]:
    """Write the feed into `folder`; (products, stores, stock rows)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pool = brands(rng)
    category_brands = {c: rng.sample(pool, 60) for c in CATEGORIES}
    skus: list[str] = []
    with (folder / "products.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "name", "brand", "category", "price", "mrp", "warranty", "specs"])
        seen: set[str] = set()
        while len(skus) < PRODUCTS:
            category = rng.choice(list(CATEGORIES))
            low, high, noun, templates = CATEGORIES[category]
            brand = rng.choice(category_brands[category])
            letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXZ") for _ in range(2))
            series = rng.choice("ABCDEUX")
            model = f"{letters}{rng.randint(10, 99)}{series}{rng.randint(100, 9999)}"
            sku = (model + "".join(rng.choice("KLMNX") for _ in range(rng.randint(0, 4))))[:20]
            if sku in seen:
                continue
            seen.add(sku)
            specs = {key: rng.choice(values) for key, values in templates}
            price = int(round(rng.uniform(low, high), -2)) - 10
            off = rng.choice([0, 0.05, 0.1, 0.2, 0.3])
            mrp = max(price, int(round(price / (1 - off), -2)) - 10)
            lead = " ".join(v for v in list(specs.values())[:1])
            name = f"{brand} {model[:6]} {lead} {noun}"
            warranty = rng.choice(
                ["1 year", "1 year comprehensive", "2 years", "1 year + 5 years on compressor"]
            )
            spec_text = "; ".join(f"{k}={v}" for k, v in specs.items())
            writer.writerow([sku, name, brand, category, price, mrp, warranty, spec_text])
            skus.append(sku)
    stores: list[tuple[str, str]] = []  # (code, size)
    with (folder / "stores.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["code", "name", "city", "area"])
        counts = {city: BIG.get(city, 1) for city in CITIES[:200]}
        extra = STORES - sum(counts.values())
        for city in rng.sample(CITIES[25:200], extra):
            counts[city] += 1
        prefixes: dict[str, int] = {}
        for city, count in counts.items():
            areas = rng.sample(AREAS, count)
            for area in areas:
                prefix = "".join(c for c in city.upper() if c.isalpha())[:3]
                prefixes[prefix] = prefixes.get(prefix, 0) + 1
                code = f"{prefix}-{prefixes[prefix]:03d}"
                shown = city.replace("_", " ")
                writer.writerow([code, f"ShopMax {area}, {shown}", shown, area])
                stores.append((code, "big" if count > 3 else "small"))
    rows = 0
    with (folder / "stock.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "store", "units"])
        for code, size in stores:
            held = rng.randint(3_000, 4_500) if size == "big" else rng.randint(1_500, 3_000)
            for sku in rng.sample(skus, held):
                writer.writerow([sku, code, rng.choice([0, 1, 1, 2, 2, 3, 4, 5, 8, 12])])
                rows += 1
    return len(skus), len(stores), rows
