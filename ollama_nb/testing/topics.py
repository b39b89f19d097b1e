"""What the demo models know: the questions the teaching notebooks and the README ask.

Each ``Topic`` holds hand-written answers in three voices, so comparing models shows real
differences: ``short`` (llama3.2: plain, a few sentences), ``medium`` (qwen3: structured Markdown)
and ``long`` (gpt-oss: longer, with tables or code). ``kid`` is used when the system prompt or the
question asks for a child's level; ``think`` is the reasoning a thinking model shows, in whole
sentences; ``items`` feeds structured output (a schema asking for a list of strings).

Answers are facts a teacher can stand behind. ``answers.py`` picks, shortens and restyles them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Topic:
    key: str
    pattern: str  # regex, searched in the lower-cased question
    short: str
    medium: str
    long: str
    think: list[str]
    kid: str = ""
    items: list[str] = field(default_factory=list)
    kid_medium: str = ""  # the child's-level answer in qwen3's and gpt-oss's voices
    kid_long: str = ""

    def matches(self, question: str) -> bool:
        return re.search(self.pattern, question.lower()) is not None


LIGHTHOUSE_SHORT = """Old Tomas had kept the lighthouse on Gull Rock for forty years. Every evening he climbed the \
ninety-two steps, wiped the salt from the great lens and lit the lamp, and every morning he wrote \
the same line in his logbook: "Light kept. All quiet."

One November night a storm came in so hard that the windows hummed. Near midnight the lamp \
flickered and died. Tomas knew the fishing boats were still out, so he lit the old oil lantern, \
carried it to the top of the tower and turned the heavy lens by hand, hour after hour, until his \
arms shook.

At dawn the boats came home, one by one. That morning, for the first time in forty years, Tomas \
wrote something different in his logbook: "Light kept. Not quiet. Everyone home."
"""

LIGHTHOUSE_MEDIUM = """## The Keeper of Hollow Point

Mara was twenty-three when she took the job nobody else wanted: keeper of the lighthouse at \
Hollow Point, three miles of grey water from the nearest town. The supply boat came on \
Thursdays. The rest of the week belonged to the wind, the gulls and the light.

She learned the rhythm quickly. Trim the wick, polish the brass, wind the clockwork that turned \
the lens, and log every ship that passed. At night she read by the glow of the lamp above her, \
the beam sweeping out over the waves every twelve seconds like a slow heartbeat.

In her second winter a fog rolled in so thick she could not see her own hand. Then she heard it: \
a ship's bell, far too close to the rocks. The light was useless in fog like that, so Mara ran \
down to the old foghorn, which had not worked in years. She hammered the rusted valve free, \
pumped the bellows until her shoulders burned, and sent one long, low note out into the white.

The bell answered. Slowly, it moved away from the rocks.

Three days later a letter arrived on the Thursday boat. It was from the captain of the *Alder*, \
and it said only: *We heard you. Thank you.* Mara pinned it above her desk, next to the logbook, \
and never again thought of the job as the one nobody wanted.
"""

LIGHTHOUSE_LONG = """# The Last Light on Skerry Isle

For thirty-one years, Elias Brand had lived alone on Skerry Isle, a knuckle of black rock at the \
mouth of the northern channel. The island had one building, one path and one purpose: the \
lighthouse, a white tower with a red cap whose beam reached nineteen miles out to sea.

Elias liked the order of it. At dusk he climbed the spiral stair, one hundred and four steps, and \
lit the lamp. Through the night he wound the clockwork every four hours so the great Fresnel lens \
kept turning, two white flashes every fifteen seconds, the island's signature in light. At dawn \
he put the lamp out, cleaned the soot from the glass and wrote in the log: the weather, the \
ships, the state of the light.

Then the letter came. The lighthouse was to be automated. A machine would turn the lens, a \
sensor would switch the lamp on at dusk, and a helicopter would visit twice a year. Elias was \
thanked for his service and offered a small flat in town.

He spent his last month doing what he had always done, only more carefully. He oiled every \
hinge. He repainted the door. He wrote down everything he knew that no sensor would: that the \
third window rattled before an east wind, that seals hauled out on the south ledge before a \
storm, that the fog came in from the west on summer evenings like a tide of milk.

On his final night a gale blew up, the worst in years. At two in the morning the new automatic \
system, installed only that week, failed. The lens stopped. Elias climbed the stair in the dark, \
found the old winding handle where he had always kept it, and turned the lens by hand until dawn. \
Out in the channel a trawler that had lost its radar steered home by those two white flashes.

When the engineers arrived, they found him asleep in the lamp room with the logbook open on his \
knee. The last entry read: *Wind NW, force 9. Light kept.*

They fixed the machine. But they also left the winding handle where it was, and taped a note \
beside it in Elias's careful handwriting: *In case.*
"""


TOPICS: list[Topic] = [
    Topic(
        key="hello_five",
        pattern=r"hello in five words|say hello in",
        short="Hello there, how are you?",
        medium="Hello, nice to meet you!",
        long="Hello friend, how are you?",
        think=[
            "The user wants a hello in exactly five words.",
            '"Hello, nice to meet you!" has five words, so that works.',
        ],
    ),
    Topic(
        key="greeting",
        pattern=r"^\W*(?:say\s+)?(?:hi|hello|hey|good (?:morning|afternoon|evening))\b\W*$",
        short="Hi! How can I help you today?",
        medium="Hello! How can I help you today?",
        long="Hi there! How can I help you today? I can answer questions, explain ideas, help with code, or just chat.",
        think=["The user is greeting me.", "I should greet them back in a friendly way and offer to help."],
    ),
    Topic(
        key="sky_blue",
        pattern=r"sky\b.*\bblue|\bblue\b.*\bsky",
        short=(
            "The sky looks blue because of Rayleigh scattering. Sunlight contains every colour, and the tiny "
            "nitrogen and oxygen molecules in the air scatter short wavelengths, like blue, much more strongly "
            "than long ones, like red. That scattered blue light reaches your eyes from every direction, so the "
            "whole sky looks blue. At sunrise and sunset the light crosses much more air, most of the blue is "
            "scattered away before it reaches you, and the sky turns orange and red."
        ),
        medium=(
            "The sky is blue because the air scatters blue sunlight far more than red sunlight.\n\n"
            "**What happens**\n\n"
            "1. Sunlight is a mix of all colours, from red (long wavelengths) to violet (short wavelengths).\n"
            "2. Air molecules are much smaller than those wavelengths, so they scatter light by *Rayleigh "
            "scattering*, which grows as 1/λ⁴: blue light is scattered about five times more than red.\n"
            "3. That scattered blue light comes at us from all over the sky, so the whole sky glows blue.\n\n"
            "**Why not violet?** The Sun emits less violet than blue, some of it is absorbed high in the "
            "atmosphere, and our eyes are less sensitive to it.\n\n"
            "The same effect explains red sunsets: near the horizon, sunlight passes through much more air, "
            "the blue is scattered out along the way, and mostly orange and red light is left."
        ),
        long=(
            "The short answer is **Rayleigh scattering**: the molecules in the air scatter short-wavelength "
            "(blue) light much more than long-wavelength (red) light, so blue light reaches your eyes from "
            "every part of the sky.\n\n"
            "### The physics\n\n"
            "Sunlight is white: a mixture of all visible wavelengths, roughly 380 nm (violet) to 700 nm (red). "
            "Nitrogen and oxygen molecules are far smaller than these wavelengths, and for such small particles "
            "the amount of scattering is proportional to 1/λ⁴.\n\n"
            "| Colour | Wavelength | Scattering relative to red |\n"
            "|---|---|---|\n"
            "| Red | ~700 nm | 1× |\n"
            "| Green | ~530 nm | ~3× |\n"
            "| Blue | ~450 nm | ~5.9× |\n\n"
            "### Why not violet?\n\n"
            "Violet is scattered even more than blue, but the Sun emits less of it, ozone absorbs some of it, "
            "and the cones in our eyes respond much more to blue. The mix we perceive is a bright sky blue.\n\n"
            "### Sunsets\n\n"
            "When the Sun is low, its light travels through up to forty times more atmosphere. Most of the blue "
            "is scattered out of the direct beam long before it reaches you, leaving the oranges and reds. "
            "Clouds, by contrast, look white because their droplets are large enough to scatter all colours "
            "about equally (Mie scattering)."
        ),
        think=[
            "Okay, the user wants to know why the sky is blue.",
            "The key idea is Rayleigh scattering: air molecules are much smaller than the wavelength of "
            "visible light, and they scatter short wavelengths much more strongly.",
            "The scattering goes as one over the wavelength to the fourth power, so blue at about 450 nm is "
            "scattered roughly five to six times more than red at about 700 nm.",
            "A natural follow-up is why the sky is not violet, since violet has an even shorter wavelength.",
            "That is because the Sun emits less violet, some is absorbed high up, and our eyes are less "
            "sensitive to it.",
            "I can finish with sunsets, which the same effect explains.",
        ],
    ),
    Topic(
        key="primary_colours",
        pattern=r"primary colou?rs?",
        short=(
            "The three primary colours are red, yellow and blue. Mixing two of them gives the secondary colours: "
            "red and yellow make orange, yellow and blue make green, and blue and red make purple."
        ),
        medium=(
            "It depends on whether you are mixing **paint** or **light**:\n\n"
            "- **Paint (traditional):** red, yellow and blue, the set taught in art class.\n"
            "- **Light (additive):** red, green and blue. Together they make white, which is how screens work.\n"
            "- **Printing (subtractive):** cyan, magenta and yellow, plus black (CMYK).\n\n"
            "In everyday use, the three primary colours are red, yellow and blue."
        ),
        long=(
            'The usual answer is **red, yellow and blue**, the traditional primaries of painting. But "primary" '
            "depends on how colours are mixed:\n\n"
            "| System | Primaries | Used in |\n"
            "|---|---|---|\n"
            "| Traditional (RYB) | red, yellow, blue | painting, art class |\n"
            "| Additive (RGB) | red, green, blue | screens, stage lighting |\n"
            "| Subtractive (CMY) | cyan, magenta, yellow | printing (with black: CMYK) |\n\n"
            "With light, adding all three primaries gives white; with pigments, mixing them gives a dark "
            "brown-black, because each pigment absorbs part of the light. Modern colour science treats RGB and "
            'CMY as the "true" primaries, and RYB as a practical approximation for mixing paint.'
        ),
        think=[
            "The user asks for the three primary colours.",
            "The classic answer from art class is red, yellow and blue.",
            "For light, the primaries are red, green and blue, and printers use cyan, magenta and yellow.",
            "I will give the usual answer and mention that it depends on what is being mixed.",
        ],
        items=["red", "yellow", "blue"],
    ),
    Topic(
        key="rainbow",
        pattern=r"rainbows?",
        short=(
            "A rainbow appears when sunlight shines through raindrops. Each drop bends the light as it enters, "
            "reflects it off its back and bends it again on the way out. Because each colour bends by a slightly "
            "different amount, white sunlight fans out into red, orange, yellow, green, blue, indigo and violet. "
            "You see a rainbow when the Sun is behind you and the rain is in front of you."
        ),
        medium=(
            "A rainbow is sunlight split into its colours by raindrops.\n\n"
            "1. **Refraction:** light bends as it enters a drop, and each colour bends by a different amount.\n"
            "2. **Reflection:** the light bounces off the back of the drop.\n"
            "3. **Refraction again:** it bends once more on the way out, spreading the colours further.\n\n"
            "Each colour leaves the drops at its own angle, about 42° for red and 40° for violet, so you see "
            "bands in a fixed order: red, orange, yellow, green, blue, indigo, violet. The Sun must be behind "
            "you, which is why rainbows appear opposite the Sun."
        ),
        long=(
            "A rainbow is an optical effect of **refraction, reflection and dispersion** of sunlight in water "
            "droplets.\n\n"
            "### How it forms\n\n"
            "- Sunlight enters a raindrop and slows down, bending (refraction). Shorter wavelengths bend more, "
            "so the colours start to separate (dispersion).\n"
            "- The light reflects off the inside back surface of the drop.\n"
            "- It bends again as it leaves, and the colours separate further.\n\n"
            "Red light leaves at about 42° from the direction opposite the Sun and violet at about 40°, so "
            "every drop on a 42° circle around that point sends you red, and so on for each colour. That is "
            "why a rainbow is an arc, always in the same order: red, orange, yellow, green, blue, indigo, "
            "violet.\n\n"
            "### Extras worth knowing\n\n"
            "- A fainter **double rainbow** comes from two reflections inside the drops; its colours are reversed.\n"
            "- No two people see exactly the same rainbow: each sees light from a different set of drops."
        ),
        kid=(
            "A rainbow happens when sunlight shines through tiny raindrops in the air. Each raindrop works like a "
            "little prism and splits the white sunlight into all its colours. The colours always come in the same "
            "order: red, orange, yellow, green, blue, indigo and violet. To see one, stand with the Sun behind you "
            "and the rain in front of you."
        ),
        kid_medium=(
            "Rainbows are made of sunlight and rain working together. Sunlight looks white, but it is really "
            "all the colours mixed up, and a raindrop bends each colour a little differently. That spreads "
            "the colours out into stripes: red on the outside, then orange, yellow, green, blue, indigo and "
            "violet. You can only see a rainbow when the Sun is behind you and it is raining in front of you."
        ),
        kid_long=(
            "Imagine every raindrop is a tiny glass ball that the sunlight shines into. When light goes into a "
            "drop it bends, bounces off the back and bends again on the way out, and each colour bends a "
            "different amount. So the white sunlight gets sorted into a fan of colours, always red, orange, "
            "yellow, green, blue, indigo, violet. Millions of drops do this at once, and together they paint "
            "the big arc you see in the sky."
        ),
        think=[
            "The user is asking about rainbows.",
            "A rainbow forms when sunlight is refracted as it enters a raindrop, reflected off the back of the "
            "drop and refracted again as it leaves.",
            "Different colours bend by different amounts, so the white light spreads out into a spectrum.",
            "The order is always red, orange, yellow, green, blue, indigo, violet, and the Sun has to be "
            "behind the observer.",
        ],
        items=["red", "orange", "yellow", "green", "blue", "indigo", "violet"],
    ),
    Topic(
        key="hello_class",
        pattern=r"(?:say )?hello to (?:the|my|our) class|greet (?:the|my|our) class",
        short="Hello, everyone, and welcome to class!",
        medium="Good morning, class, and thank you for letting me join your lesson today.",
        long=(
            "Hello to every one of you in this class: I'm excited to explore today's topic with you, so bring "
            "your questions along."
        ),
        think=[
            "The user wants a one-sentence greeting for a class.",
            "It should be warm and short, and it should invite the students to take part.",
        ],
    ),
    Topic(
        key="count_five",
        pattern=r"count (?:from )?(?:one|1) to (?:five|5)|count to (?:five|5)",
        short="One, two, three, four, five.",
        medium="1, 2, 3, 4, 5.",
        long="Sure! Here you go:\n\n1. One\n2. Two\n3. Three\n4. Four\n5. Five",
        think=["The user wants me to count from one to five.", "That is simply one, two, three, four, five."],
    ),
    Topic(
        key="lighthouse",
        pattern=r"lighthouse",
        short=LIGHTHOUSE_SHORT.strip(),
        medium=LIGHTHOUSE_MEDIUM.strip(),
        long=LIGHTHOUSE_LONG.strip(),
        think=[
            "The user wants a long story about a lighthouse keeper.",
            "A good story needs a character with a routine, a moment that tests them and an ending that "
            "shows what the job means.",
            "A storm at night, when the light fails and the keeper keeps it going by hand, is a classic turning point.",
            "I will give the keeper a name, a few concrete details about the work and a quiet last line.",
        ],
    ),
    Topic(
        key="capital_france",
        pattern=r"capital of france|france'?s capital",
        short="The capital of France is Paris.",
        medium=(
            "The capital of France is **Paris**. It lies on the river Seine and is the country's largest city, "
            "with about 2.1 million people in the city itself and over 12 million in the wider metropolitan area."
        ),
        long=(
            "The capital of France is **Paris**.\n\n"
            "| | |\n|---|---|\n"
            "| River | the Seine |\n"
            "| Population | about 2.1 million (city), over 12 million (metropolitan area) |\n"
            "| Known for | the Eiffel Tower, the Louvre, Notre-Dame |\n\n"
            "Paris is also the seat of the French government and the country's economic and cultural centre."
        ),
        think=[
            "The user asks for the capital of France.",
            "That is Paris.",
            "It is a simple factual question, so a short answer with one extra fact is enough.",
        ],
    ),
    Topic(
        key="photosynthesis",
        pattern=r"photosynthesis",
        short=(
            "Photosynthesis is the process plants use to make their own food from light. In their leaves, "
            "chlorophyll captures sunlight and uses its energy to turn carbon dioxide from the air and water "
            "from the soil into glucose, a sugar. Oxygen is released as a by-product, and it is the oxygen we "
            "breathe. The overall reaction is 6 CO₂ + 6 H₂O + light → C₆H₁₂O₆ + 6 O₂."
        ),
        medium=(
            "Photosynthesis is how plants, algae and some bacteria turn light energy into chemical energy "
            "stored in sugar.\n\n"
            "It happens in the **chloroplasts**, mostly in leaves, in two stages:\n\n"
            "1. **Light-dependent reactions:** chlorophyll absorbs light, water molecules are split and oxygen "
            "is released; the energy is stored in ATP and NADPH.\n"
            "2. **Calvin cycle:** the plant uses that ATP and NADPH to fix carbon dioxide from the air "
            "into glucose.\n\n"
            "Overall: 6 CO₂ + 6 H₂O + light → C₆H₁₂O₆ + 6 O₂. Almost every food chain, and the oxygen in our "
            "air, depends on it."
        ),
        long=(
            "**Photosynthesis** is the process by which plants, algae and cyanobacteria capture light energy and "
            "store it as chemical energy in glucose.\n\n"
            "| Inputs | Outputs |\n|---|---|\n"
            "| carbon dioxide (from the air) | glucose (food for the plant) |\n"
            "| water (from the soil) | oxygen (released into the air) |\n"
            "| light (absorbed by chlorophyll) | |\n\n"
            "### Two stages\n\n"
            "1. **Light-dependent reactions** (in the thylakoid membranes): chlorophyll absorbs mostly red and "
            "blue light, water is split, oxygen is released, and the energy is stored in ATP and NADPH.\n"
            "2. **Light-independent reactions**, the Calvin cycle (in the stroma): the enzyme RuBisCO fixes CO₂, "
            "and ATP and NADPH power its conversion into sugar.\n\n"
            "The overall equation is 6 CO₂ + 6 H₂O + light → C₆H₁₂O₆ + 6 O₂. Leaves look green because "
            "chlorophyll reflects green light rather than absorbing it."
        ),
        kid=(
            "Photosynthesis is how plants make their own food from sunlight, water and air. Their green leaves "
            "catch the light and turn it into sugar, and they give off the oxygen we breathe."
        ),
        kid_medium=(
            "Photosynthesis is a plant's way of cooking its own food, using sunlight as the stove. The leaves "
            "mix water and air into sugar, and the oxygen left over goes out into the air for us to breathe."
        ),
        kid_long=(
            "Plants can't eat like we do, so they make food with photosynthesis: their leaves catch sunlight "
            "and use it to turn water and the air's carbon dioxide into sugar. As they do it, they breathe out "
            "oxygen, which is the oxygen people and animals need."
        ),
        think=[
            "The user is asking what photosynthesis is.",
            "It is the process by which plants use light energy to make glucose from carbon dioxide and water.",
            "I should mention chlorophyll and the chloroplasts, and the overall equation.",
            "Oxygen is a by-product, which is worth pointing out because it is the oxygen we breathe.",
        ],
    ),
    Topic(
        key="prime_definition",
        pattern=r"what (?:is|are) (?:a )?prime(?: numbers?)?\b|define (?:a )?prime|prime numbers? mean",
        short=(
            "A prime number is a whole number greater than 1 whose only divisors are 1 and itself. For example, "
            "2, 3, 5, 7, 11 and 13 are prime. A number like 6 is not prime, because 6 = 2 × 3. The number 2 is "
            "the only even prime."
        ),
        medium=(
            "A **prime number** is a whole number greater than 1 that has exactly two divisors: 1 and itself.\n\n"
            "- Primes: 2, 3, 5, 7, 11, 13, 17, 19, …\n"
            "- Not prime: 4 = 2 × 2, 9 = 3 × 3 and 15 = 3 × 5 (these are called *composite*)\n"
            "- 1 is not prime, because it has only one divisor.\n\n"
            "Primes are the building blocks of whole numbers: every whole number above 1 can be written as a "
            "product of primes in exactly one way."
        ),
        long=(
            "A **prime number** is a natural number greater than 1 that cannot be written as the product of two "
            "smaller natural numbers. Equivalently, it has exactly two positive divisors: 1 and itself.\n\n"
            "### Examples\n\n"
            "| Number | Divisors | Prime? |\n|---|---|---|\n"
            "| 2 | 1, 2 | yes (the only even prime) |\n"
            "| 7 | 1, 7 | yes |\n"
            "| 9 | 1, 3, 9 | no |\n"
            "| 1 | 1 | no (only one divisor) |\n\n"
            "### How to check a number\n\n"
            "Try dividing it by every prime up to its square root. If none divides it evenly, it is prime. For "
            "97, you only need to try 2, 3, 5 and 7.\n\n"
            "### Why they matter\n\n"
            "By the fundamental theorem of arithmetic, every whole number above 1 is a product of primes in "
            "exactly one way. Large primes are also the basis of much of today's cryptography, such as RSA."
        ),
        kid=(
            "A prime number is a whole number bigger than 1 that you can only divide evenly by 1 and by itself. "
            "For example, 7 is prime, but 6 is not, because 6 = 2 × 3."
        ),
        kid_medium=(
            "A prime number is a number you can't split into equal groups, except groups of 1 or one big "
            "group. With 7 sweets you can't make equal piles of 2 or 3, so 7 is prime, but 6 sweets make "
            "two piles of 3, so 6 is not."
        ),
        kid_long=(
            "Think of a prime number as a number that can only be made by multiplying 1 by itself: 5 is only "
            "1 × 5, so it is prime. But 12 can be 3 × 4 or 2 × 6, so it is not prime."
        ),
        think=[
            "The user wants a definition of a prime number.",
            "A prime is a whole number greater than 1 with exactly two divisors, 1 and itself.",
            "I should give a few examples and a counterexample such as 6 = 2 × 3.",
            "It is also worth saying that 1 is not prime, since students often wonder about that.",
        ],
    ),
    Topic(
        key="database_index",
        pattern=r"database index|\bindex(?:es)? (?:in|on) a (?:database|table)|what is an index\b",
        short=(
            "A database index is a separate data structure that helps the database find rows quickly without "
            "scanning the whole table. It works like the index at the back of a book: it keeps the values of one "
            "or more columns in sorted order, each with a pointer to its row. Indexes make lookups much faster, "
            "but they take extra space and slow down inserts and updates a little, because the index must be "
            "updated too."
        ),
        medium=(
            "An index is a lookup structure, usually a B-tree, that the database keeps next to a table so it can "
            "jump straight to the rows that match a value. Instead of reading every row to answer a query like "
            "`WHERE email = 'ana@example.com'`, the database walks the tree in a handful of steps, turning a full "
            "scan into a logarithmic search. The price is extra storage and slower writes, since every insert, "
            "update or delete must also keep the index up to date.\n\n"
            "**Rule of thumb:** index the columns you filter, join or sort on often."
        ),
        long=(
            "A database index is an auxiliary data structure, most often a B-tree and sometimes a hash table, that "
            "maps the values of one or more columns to the locations of the rows that contain them. When a query "
            "filters, joins or sorts on an indexed column, the database searches the index in O(log n) steps "
            "instead of scanning every row, much as you would use a book's index rather than read every page. The "
            "trade-off is that each index uses disk space and must be maintained on every insert, update and "
            "delete, so you create indexes for the columns your queries actually search on, not for every column.\n\n"
            "```sql\nCREATE INDEX idx_users_email ON users (email);\n"
            "SELECT * FROM users WHERE email = 'ana@example.com';  -- now an index lookup\n```\n\n"
            "| | Without index | With index |\n|---|---|---|\n"
            "| Find one row in 10 million | read ~10,000,000 rows | ~25 tree steps |\n"
            "| Insert a row | write the row | write the row and update the index |"
        ),
        think=[
            "The user asks what a database index is, in three sentences.",
            "The core idea is a separate structure, usually a B-tree, that maps column values to rows.",
            "The book index analogy makes it concrete.",
            "I should also mention the trade-off: faster reads, but extra storage and slower writes.",
            "Three sentences is enough for definition, benefit and cost.",
        ],
    ),
    Topic(
        key="no_image",
        pattern=r"what do you see|describe (?:this|the) (?:picture|image|photo)"
        r"|in (?:this|the) (?:picture|image|photo)",
        short="I don't see any image: no picture came with your message, and I can only read text. Send the "
        "question to a vision model such as llava, with the image attached.",
        medium="I can't see anything: no image is attached to this message, and I am a text-only model. Try a "
        "vision model like `llava` and attach the picture with `images`.",
        long="There is no image in this request, and I am a text-only model, so I have nothing to look at. To ask "
        "about a picture, send it to a vision model (for example `llava`) in the message's `images` field, "
        "or with `%%ollama --image` in a notebook.",
        think=[
            "The user asks what I see, but there is no image in the message.",
            "I am a text model, so I should say that and point to a vision model.",
        ],
    ),
    # Notebook 09 (errors, data and code as context) and 08's course prompt.
    Topic(
        key="missing_values",
        pattern=r"missing values",
        short="The price column has missing values; fill them with the median price, or drop those rows.",
        medium=(
            "Only `price` has missing values (about 1% of the rows). Fill them with the median price of the same "
            "city with `df.groupby('city')['price'].transform('median')`, or drop those rows if they are few."
        ),
        long=(
            "Looking at the null counts, only `price` has missing values, about 1% of the rows. Two sensible "
            "options:\n\n```python\nsales['price'] = sales['price'].fillna(\n"
            "    sales.groupby('city')['price'].transform('median')\n)\n```\n\n"
            "or drop them with `sales.dropna(subset=['price'])` when so few rows do not matter."
        ),
        think=[
            "The summary lists a null count per column.",
            "Only price has nulls, so the median per city is a fair fill.",
        ],
    ),
    Topic(
        key="data_built_above",
        pattern=r"data built above|what does (?:this|the|my) code (?:do|build)",
        short="It builds a table of 10,000 sales: a city, the units sold and a price, a few prices missing.",
        medium=(
            "The code builds a DataFrame of 10,000 random sales, each with a city, a number of units and a "
            "price, and leaves about 1% of the prices missing."
        ),
        long=(
            "It creates a pandas DataFrame of 10,000 simulated sales from a seeded random generator: `city` is "
            "one of three cities, `units` a whole number from 1 to 19, and `price` a price between 2 and 9 "
            "with about 1% of the values set to NaN."
        ),
        think=["The cells create a DataFrame from a random generator.", "Say what each column holds."],
    ),
    Topic(
        key="revenue_function",
        pattern=r"python function that returns the total revenue",
        short="```python\ndef revenue(df):\n    return (df['units'] * df['price']).groupby(df['city']).sum()\n```",
        medium=(
            "Multiply units by price and sum per city; `sum` skips the missing prices:\n\n```python\n"
            "def revenue_per_city(df):\n    revenue = df['units'] * df['price']\n"
            "    return revenue.groupby(df['city']).sum()\n```"
        ),
        long=(
            "Here is a small function; pandas' `sum` skips NaN, so rows with a missing price add nothing:\n\n"
            "```python\ndef revenue_per_city(df):\n    \"\"\"Total revenue (units × price) per city.\"\"\"\n"
            "    revenue = df['units'] * df['price']\n    return revenue.groupby(df['city']).sum()\n```"
        ),
        think=["Revenue is units times price.", "Group by city and sum; NaN prices are skipped by sum."],
    ),
    Topic(
        key="stuck_on_exercise",
        pattern=r"stuck on (?:the |this |exercise|question|problem)",
        short="Which step fails? Print the values just before it and compare them with what you expect.",
        medium=(
            "Start with what the exercise gives you and what it asks for. Which line does not do what you "
            "expect? Print the values there: the gap between them and your expectation is your next hint."
        ),
        long=(
            "Let's find the step together rather than jump to the answer. What does the exercise give you, "
            "and what should come out? Run your code on the smallest example you can, print what each step "
            "produces, and tell me the first step whose result surprises you."
        ),
        think=["The student is stuck; a tutor gives a hint, not the solution.", "Ask which step fails."],
    ),
    Topic(
        key="weather",
        pattern=r"\bweather\b",
        short=(
            "I can't check the weather: I don't have access to live data or the internet. A weather website or "
            "app will tell you the current conditions{where}."
        ),
        medium=(
            "I don't have access to real-time information, so I can't tell you the current weather{where}. "
            "Check a weather service, or give me a weather tool to call (notebook 04 shows how)."
        ),
        long=(
            "I can't look that up: I have no internet access and no live data, so any weather I told you{where} "
            "would be made up. For current conditions, use a weather service such as your national "
            "meteorological office. If you describe a weather function to me as a **tool**, I can ask your code "
            "to call it and answer from its result."
        ),
        think=[
            "The user asks about the current weather.",
            "I have no internet access and no tools in this request, so I cannot know the weather.",
            "The honest answer is to say so and suggest where to look.",
        ],
    ),
]


def find(question: str) -> Topic | None:
    """The first topic whose pattern matches the question, else None."""
    for topic in TOPICS:
        if topic.matches(question):
            return topic
    return None


ROBOTS = [
    "Meet Pixel, a small round robot with glowing blue eyes who hums happily while it waters the plants.",
    "Bolt is a cheerful silver robot on wheels who rolls around the library helping children find their "
    "favourite books.",
    "Say hello to Nova, a friendly robot with soft orange lights who tells bedtime stories and never forgets "
    "your name.",
    "Sprocket is a clumsy but kind little robot who bakes pancakes every morning and always makes one extra for "
    "a friend.",
    "Meet Juniper, a tall, gentle robot with a teapot-shaped head who serves tea and listens to your problems.",
    "Beep is a garden robot with long bendy arms who plants sunflowers and waves at everyone who walks by.",
    "Cosmo is a pocket-sized robot with a springy antenna who lights up green whenever someone laughs.",
]
ROBOT_PATTERN = r"\brobot\b"
