"""Documents for the filter tests: written here, so nothing is fetched."""

ENGLISH = """The quarterly review meeting took place on Tuesday afternoon in the main conference room. The finance \
team presented the updated budget, which shows that operating costs fell by four percent compared with the \
previous quarter.

Several managers raised questions about the timeline for the new warehouse project. The project lead explained \
that construction permits have been approved and that the first phase should be finished before the end of the \
summer.

We agreed to schedule a follow-up session with the logistics partners next month. Everyone should send their \
comments on the draft plan to the coordinator by Friday, so that the final version can be circulated in good time."""

GERMAN = """Die vierteljährliche Besprechung fand am Dienstagnachmittag im großen Konferenzraum statt. Das \
Finanzteam stellte den aktualisierten Haushalt vor, der zeigt, dass die Betriebskosten im Vergleich zum \
Vorquartal um vier Prozent gesunken sind.

Mehrere Führungskräfte stellten Fragen zum Zeitplan für das neue Lagerprojekt. Der Projektleiter erklärte, dass \
die Baugenehmigungen erteilt wurden und die erste Phase vor dem Ende des Sommers abgeschlossen sein sollte."""

FRENCH = """La réunion trimestrielle a eu lieu mardi après-midi dans la grande salle de conférence. L'équipe \
financière a présenté le budget mis à jour, qui montre que les coûts d'exploitation ont baissé de quatre pour \
cent par rapport au trimestre précédent.

Plusieurs responsables ont posé des questions sur le calendrier du nouveau projet d'entrepôt. Le chef de projet a \
expliqué que les permis de construire ont été accordés et que la première phase devrait être terminée avant la \
fin de l'été."""

# A short business document: headings and bullets without final punctuation, fewer than 5 sentences.
MEMO = """Project Apollo Status

Budget
- Spend to date: 1.2M against a plan of 1.4M
- Forecast unchanged

The steering committee approved the revised schedule and the vendor contract was signed on Monday. We expect \
the pilot to start with the sales team in the second week of next month, and the training material is being \
reviewed by the regional managers before it is sent to all of the participants."""

REPETITIVE = "\n".join(["Click here to win a free cruise to the Bahamas today."] * 20)

WORD_SALAD = " ".join(
    "purple elephant quantum banana seventeen galaxy marble orchestra lantern velvet cactus thunder pepper "
    "saddle mirror glacier pencil rocket walnut harbor violin crystal meadow falcon biscuit tornado compass "
    "jungle feather candle dolphin ribbon puzzle spider blanket dragon garlic helmet island kettle lemon magnet "
    "noodle oyster parrot quilt raisin sandal tulip umbrella vortex wizard yogurt zipper anchor barrel".split()
)

UNPUNCTUATED = "\n".join([
    "Annual revenue by region and product line for the year",
    "North America hardware sales grew in every single quarter",
    "Europe software subscriptions were flat across the period",
    "Asia services revenue doubled after the new partnership",
    "Latin America remained small but showed a steady increase",
    "Headcount grew in engineering and in customer support teams",
    "Marketing spend was reduced and moved to digital channels",
    "The board approved the plan for the next financial year with",
    "additional investment in the data platform and the sales team",
])
