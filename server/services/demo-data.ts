import type { ScoringModelInput } from "../../shared/schemas/scoring.ts";

/** Names, words and models the demo seed and simulator draw from. */
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
  ["Adventure Works Cycles", "Manufacturing", "US", 640], ["Bellows College", "Education", "GB", 1100],
  ["Best For You Organics", "Food and beverage", "US", 160], ["City Power & Light", "Utilities", "US", 4100],
  ["Lamna Healthcare", "Healthcare", "NL", 880], ["Tailwind Traders", "Retail", "SE", 1300],
  ["Munson's Pickles", "Food and beverage", "US", 45], ["Nod Publishers", "Media", "GB", 120],
  ["School of Fine Art", "Education", "FR", 70], ["The Phone Company", "Telecommunications", "DE", 9300],
  ["Fincher Architects", "Consulting", "DK", 65], ["Kestrel Logistics", "Logistics", "DE", 520],
  ["Aurora Grid Energy", "Utilities", "NO", 2600], ["Helix Diagnostics", "Healthcare", "CH", 340],
  ["Meridian Freight", "Transport", "NL", 780], ["Oakline Furniture", "Manufacturing", "IT", 230],
  ["Quantum Leap Robotics", "Software", "US", 190], ["Stellar Foods", "Food and beverage", "ES", 1450],
  ["Tidewater Shipping", "Transport", "GB", 2050], ["Brightwater Utilities", "Utilities", "IE", 310],
  ["Cobalt Ledger", "Financial services", "GB", 450], ["Greenleaf Insurance", "Insurance", "DE", 1250],
  ["Northstar Software", "Software", "CA", 360], ["Vertex Components", "Manufacturing", "PL", 150],
];
/** Companies first heard of through the simulator's landing pages: new, small accounts. */
export const prospectCompanyWords: [first: string[], second: string[]] = [
  ["Bright", "Harbor", "Summit", "Copper", "Silver", "Granite", "Maple", "Blue", "Iron", "Swift", "Lumen", "Cedar"],
  ["Analytics", "Labs", "Systems", "Partners", "Works", "Studio", "Logistics", "Retail", "Health", "Foods", "Energy", "Digital"],
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
/** Interests an account-based lead stands for: a whole company, not one person. */
export const accountTopics = ["Enterprise rollout", "Multi-site expansion", "Platform consolidation", "Strategic partnership"];
export const campaigns = ["Spring launch 2026", "Retail summit", "Analytics webinar series", "Partner push Q4"];
export const contactCountries = ["US", "DE", "FR", "GB", "NL", "SE"];
/** Pages a website visit lands on (the tracker reports the URL). */
export const websitePages = ["/pricing", "/product/board", "/product/scoring", "/customers", "/blog/lead-scoring", "/integrations", "/security", "/contact-sales"];
/** Personal addresses: the contact model takes points off them. */
export const personalEmailDomain = "gmail.example";

export const demoForms: Array<{ name: string; campaign: string | null }> = [
  { name: "Spring launch landing page", campaign: "Spring launch 2026" },
  { name: "Pricing page", campaign: null },
  { name: "Analytics whitepaper download", campaign: "Analytics webinar series" },
];

/** Events relative to the seed's moment: one past (attended), one today (check-ins), one ahead (registrations). */
export const demoEvents: Array<{ name: string; startsInDays: number; campaign: string | null }> = [
  { name: "Analytics roadshow Berlin", startsInDays: -12, campaign: "Analytics webinar series" },
  { name: "Customer day: pipeline live", startsInDays: 0, campaign: "Spring launch 2026" },
  { name: "Retail summit 2026", startsInDays: 21, campaign: "Retail summit" },
];

export const targetIndustries = ["Software", "Retail", "Manufacturing", "Healthcare", "Financial services"];

const contactGrades = [
  { grade: "A", min: 100, max: 100_000 },
  { grade: "B", min: 60, max: 99 },
  { grade: "C", min: 30, max: 59 },
  { grade: "D", min: -1_000, max: 29 },
];

const accountGrades = [
  { grade: "A", min: 150, max: 100_000 },
  { grade: "B", min: 100, max: 149 },
  { grade: "C", min: 50, max: 99 },
  { grade: "D", min: -1_000, max: 49 },
];

/** The two live models of the demo: one person's engagement, and a whole account's. */
export const demoModels: ScoringModelInput[] = [
  {
    name: "Engagement (contact)",
    target: "contact",
    threshold: 100,
    status: "live",
    keepSalesReady: true,
    grades: contactGrades,
    conditions: [
      { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each", withinDays: 30 },
      { kind: "behavior", interaction: "email_clicked", points: 5, frequency: "each", withinDays: 14 },
      { kind: "behavior", interaction: "email_opened", points: 1, frequency: "each", withinDays: 14 },
      { kind: "behavior", interaction: "website_visited", points: 2, frequency: "each", withinDays: 7 },
      { kind: "behavior", interaction: "event_registered", points: 15, frequency: "once" },
      { kind: "behavior", interaction: "event_attended", points: 25, frequency: "once" },
      { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 15 },
      { kind: "contact", field: "jobTitle", op: "contains", value: "vp", points: 15 },
      { kind: "contact", field: "jobTitle", op: "contains", value: "head", points: 15 },
      { kind: "account", field: "industry", op: "in", value: targetIndustries, points: 10 },
      { kind: "contact", field: "email", op: "contains", value: "gmail", points: -10 },
    ],
  },
  {
    name: "Account engagement (account)",
    target: "account",
    threshold: 150,
    status: "live",
    keepSalesReady: true,
    grades: accountGrades,
    conditions: [
      { kind: "account", field: "employeeCount", op: "gte", value: 200, points: 20 },
      { kind: "account", field: "industry", op: "in", value: targetIndustries, points: 10 },
      { kind: "behavior", interaction: "form_submitted", points: 2, frequency: "each", withinDays: 30 },
      { kind: "behavior", interaction: "email_clicked", points: 1, frequency: "each", withinDays: 14 },
      { kind: "behavior", interaction: "website_visited", points: 1, frequency: "each", withinDays: 7 },
      { kind: "behavior", interaction: "event_registered", points: 3, frequency: "each", withinDays: 60 },
      { kind: "behavior", interaction: "event_attended", points: 8, frequency: "each", withinDays: 60 },
    ],
  },
];

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

/** Picks by weight: `[[item, weight], ...]`. */
export function pickWeighted<T>(random: () => number, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [item, weight] of choices) {
    r -= weight;
    if (r < 0) return item;
  }
  return choices[choices.length - 1]![0];
}

/** An address for a person at a company: ASCII, lower case. */
export function emailFor(first: string, last: string, domain: string, suffix: string | number = ""): string {
  const local = `${first}.${last}${suffix === "" ? "" : `.${suffix}`}`;
  return `${local}@${domain}`.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-zA-Z0-9.@-]/g, "").toLowerCase();
}

export function domainOf(company: string): string {
  return `${company.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z]+/g, "")}.example`;
}
