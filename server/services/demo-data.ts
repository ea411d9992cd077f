/** Names and words the demo seed and simulator draw from. */
export const firstNames = [
  "Ada", "Ben", "Chloé", "Dmitri", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
  "Maja", "Nikolai", "Olga", "Pablo", "Qiu", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yusuf", "Zoë",
];
export const lastNames = [
  "Andersen", "Baptiste", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hoffmann", "Ibrahim", "Jansen",
  "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka",
  "Urbanski", "Visser", "Weber", "Yilmaz", "Zhang",
];
export const companies: Array<[name: string, industry: string, country: string, employees: number]> = [
  ["Northwind Traders", "Retail", "US", 420], ["Contoso Pharmaceuticals", "Healthcare", "DE", 5200],
  ["Fabrikam Industries", "Manufacturing", "FR", 1800], ["Adatum Corporation", "Software", "US", 950],
  ["Tailspin Toys", "Retail", "GB", 130], ["Wide World Importers", "Logistics", "NL", 610],
  ["Litware Inc.", "Software", "SE", 75], ["Proseware", "Education", "US", 240],
  ["Woodgrove Bank", "Financial services", "CH", 12000], ["Lucerne Publishing", "Media", "DE", 320],
  ["Alpine Ski House", "Hospitality", "AT", 90], ["Blue Yonder Airlines", "Transport", "IE", 3100],
  ["Coho Winery", "Food and beverage", "PT", 55], ["Humongous Insurance", "Insurance", "US", 8700],
  ["Margie's Travel", "Hospitality", "ES", 140], ["Trey Research", "Biotech", "DK", 410],
  ["Fourth Coffee", "Food and beverage", "IT", 260], ["Graphic Design Institute", "Education", "BE", 60],
  ["Relecloud", "Software", "FI", 700], ["VanArsdel", "Manufacturing", "PL", 2300],
  ["Consolidated Messenger", "Logistics", "US", 1500], ["First Up Consultants", "Consulting", "NO", 180],
  ["Southridge Video", "Media", "CA", 95], ["Wingtip Toys", "Retail", "AU", 210],
];
export const jobTitles = [
  "Marketing Director", "Head of Sales", "IT Manager", "Operations Lead", "CFO", "Procurement Officer",
  "VP Engineering", "Office Manager", "Chief Digital Officer", "Product Owner", "Analyst", "CEO",
];
export const topics = [
  "Pricing enquiry", "Product demo request", "Whitepaper: pipeline analytics", "Webinar: spring launch",
  "Trade fair visit", "Partner programme", "Renewal and upgrade", "Case study download", "Free trial",
  "Newsletter sign-up", "Integration question", "Security review",
];
export const campaigns = ["Spring launch 2026", "Retail summit", "Analytics webinar series", "Partner push Q4"];

/** A small deterministic generator, so the demo is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}
