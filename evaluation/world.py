"""The world the synthetic traffic lives in: countries with their cities, names and e-mail providers,
and pools of IP addresses found in the embedded network data (residential addresses of each country,
hosting, Tor and Apple Private Relay exits), all drawn from a seeded random generator.

The lists are written for this evaluation (nothing copied); the IP pools are sampled, then checked
with the same embedded data scoring uses (`EmbeddedReferenceData().ip(addr)`), so a "residential
address in GB" is one the system itself places in GB on a residential network."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from functions.score.reference import EmbeddedReferenceData, ReferenceData


@dataclass(frozen=True)
class City:
    name: str
    region: str
    lat: float
    lon: float
    postal: str  # a pattern: # = a digit, @ = a capital letter
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    cities: tuple[City, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    providers: tuple[tuple[str, int], ...]  # free e-mail providers and their weights
    street_format: str  # "{n} {street}" or "{street} {n}"


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


def _c(name: str, region: str, lat: float, lon: float, postal: str, *streets: str) -> City:
    return City(name, region, lat, lon, postal, streets)


COUNTRIES: dict[str, Country] = {
    "US": Country(
        "US",
        "USD",
        (
            _c("New York", "NY", 40.71, -74.01, "100##", "Madison Ave", "W 72nd St", "Atlantic Ave"),
            _c("Chicago", "IL", 41.88, -87.63, "606##", "N Clark St", "W Belmont Ave"),
            _c("Austin", "TX", 30.27, -97.74, "787##", "S Congress Ave", "Guadalupe St"),
            _c("Seattle", "WA", 47.61, -122.33, "981##", "Pine St", "Fremont Ave N"),
            _c("Denver", "CO", 39.74, -104.99, "802##", "Colfax Ave", "Larimer St"),
            _c("Atlanta", "GA", 33.75, -84.39, "303##", "Peachtree St", "Ponce de Leon Ave"),
        ),
        _names(
            "James, Mary, Robert, Patricia, Michael, Jennifer, David, Linda, Chris, Ashley, "
            "Daniel, Jessica, Kevin, Emily, Brian, Megan, Tyler, Nicole, Jamal, Keisha, Carlos, "
            "Maria, Wei, Priya, Andre, Tanya, Samantha, Jason, Rachel, Eric, Lauren, Marcus, "
            "Hannah, Derek, Vanessa, Luis, Sofia, Nathan, Amber, Trevor, Monique, Hiroshi, Grace, "
            "Dylan, Brittany, Omar"
        ),
        _names(
            "Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Garcia, Rodriguez, Wilson, "
            "Martinez, Anderson, Taylor, Thomas, Moore, Jackson, Lee, Walker, Hall, Young, King, "
            "Nguyen, Patel, Robinson, Carter, Mitchell, Perez, Roberts, Turner, Phillips, "
            "Campbell, Parker, Evans, Edwards, Collins, Stewart, Sanchez, Morris, Rogers, Reed, "
            "Cook, Morgan, Bell, Murphy, Bailey, Rivera, Cooper, Richardson, Cox, Howard, Ward, "
            "Torres, Peterson, Gray, Ramirez, Watson, Brooks, Kelly, Sanders, Price, Bennett, "
            "Wood, Barnes, Ross, Henderson, Coleman"
        ),
        (
            ("gmail.com", 45),
            ("yahoo.com", 12),
            ("outlook.com", 9),
            ("hotmail.com", 6),
            ("icloud.com", 8),
            ("aol.com", 3),
            ("comcast.net", 3),
            ("proton.me", 2),
        ),
        "{n} {street}",
    ),
    "GB": Country(
        "GB",
        "GBP",
        (
            _c("London", "England", 51.51, -0.13, "N# #@@", "Camden Road", "Holloway Road", "Kings Road"),
            _c("Manchester", "England", 53.48, -2.24, "M## #@@", "Oxford Road", "Deansgate"),
            _c("Bristol", "England", 51.45, -2.59, "BS# #@@", "Gloucester Road", "Whiteladies Road"),
            _c("Edinburgh", "Scotland", 55.95, -3.19, "EH# #@@", "Leith Walk", "Morningside Road"),
            _c("Leeds", "England", 53.8, -1.55, "LS# #@@", "Kirkstall Road", "Otley Road"),
        ),
        _names(
            "Oliver, Amelia, Harry, Isla, George, Ava, Jack, Emily, Charlie, Sophie, Thomas, "
            "Grace, Alfie, Poppy, Freddie, Ella, Mohammed, Aisha, Callum, Niamh, Lily, Oscar, "
            "Jessica, Archie, Chloe, Henry, Lucy, Leo, Rosie, Joshua, Imogen, Ethan, Hannah, Rhys, "
            "Megan, Ravi, Zara, Ewan"
        ),
        _names(
            "Smith, Jones, Taylor, Brown, Williams, Wilson, Evans, Thomas, Roberts, Walker, "
            "Wright, Robinson, Thompson, Hughes, Edwards, Green, Hall, Wood, Khan, Campbell, "
            "Murphy, Clarke, Johnson, White, Harris, Martin, Cooper, King, Lee, Baker, Harrison, "
            "Morgan, Allen, James, Scott, Phillips, Watson, Davies, Parker, Price, Bennett, Young, "
            "Griffiths, Mitchell, Kelly, Cook, Carter, Richardson, Bailey, Collins, Bell, Shaw, "
            "Murray, Chapman, Cox, Ali, Patel, Singh"
        ),
        (
            ("gmail.com", 40),
            ("hotmail.co.uk", 12),
            ("yahoo.co.uk", 8),
            ("outlook.com", 10),
            ("btinternet.com", 6),
            ("sky.com", 4),
            ("icloud.com", 7),
            ("googlemail.com", 3),
        ),
        "{n} {street}",
    ),
    "DE": Country(
        "DE",
        "EUR",
        (
            _c("Berlin", "Berlin", 52.52, 13.4, "10###", "Oranienstraße", "Kastanienallee", "Sonnenallee"),
            _c("Hamburg", "Hamburg", 53.55, 9.99, "20###", "Osterstraße", "Schanzenstraße"),
            _c("München", "Bayern", 48.14, 11.58, "80###", "Leopoldstraße", "Sendlinger Straße"),
            _c("Köln", "Nordrhein-Westfalen", 50.94, 6.96, "50###", "Venloer Straße", "Aachener Straße"),
            _c("Leipzig", "Sachsen", 51.34, 12.37, "04###", "Karl-Liebknecht-Straße", "Eisenbahnstraße"),
        ),
        _names(
            "Lukas, Anna, Leon, Lena, Finn, Marie, Jonas, Laura, Paul, Julia, Felix, Sophie, Max, "
            "Hannah, Jan, Katharina, Emre, Elif, Tobias, Sarah, Niklas, Lea, Tim, Johanna, Moritz, "
            "Clara, Philipp, Mia, Simon, Lisa, David, Nina, Erik, Jana"
        ),
        _names(
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, "
            "Koch, Richter, Klein, Wolf, Schröder, Neumann, Yilmaz, Braun, Zimmermann, Krüger, "
            "Hofmann, Hartmann, Lange, Schmitt, Werner, Schmitz, Krause, Meier, Lehmann, Schmid, "
            "Schulze, Maier, Köhler, Herrmann, König, Walter, Mayer, Huber, Kaiser, Fuchs, Peters, "
            "Lang, Scholz, Möller, Weiß, Jung, Hahn, Schubert, Vogel, Friedrich, Keller, Günther"
        ),
        (
            ("gmail.com", 30),
            ("gmx.de", 20),
            ("web.de", 20),
            ("t-online.de", 10),
            ("outlook.de", 5),
            ("posteo.de", 3),
            ("icloud.com", 5),
        ),
        "{street} {n}",
    ),
    "FR": Country(
        "FR",
        "EUR",
        (
            _c(
                "Paris",
                "Île-de-France",
                48.86,
                2.35,
                "750##",
                "Rue de Rivoli",
                "Rue Oberkampf",
                "Boulevard Voltaire",
            ),
            _c(
                "Lyon",
                "Auvergne-Rhône-Alpes",
                45.76,
                4.84,
                "6900#",
                "Rue de la République",
                "Cours Lafayette",
            ),
            _c("Marseille", "Provence-Alpes-Côte d'Azur", 43.3, 5.37, "130##", "La Canebière", "Rue Paradis"),
            _c("Toulouse", "Occitanie", 43.6, 1.44, "310##", "Rue d'Alsace-Lorraine", "Allée Jean Jaurès"),
            _c("Nantes", "Pays de la Loire", 47.22, -1.55, "440##", "Rue Crébillon", "Quai de la Fosse"),
        ),
        _names(
            "Gabriel, Louise, Léo, Jade, Raphaël, Emma, Louis, Alice, Arthur, Chloé, Hugo, Léa, "
            "Lucas, Manon, Nathan, Camille, Karim, Inès, Théo, Sarah, Jules, Zoé, Adam, Lina, "
            "Paul, Anna, Tom, Clara, Maxime, Julie, Antoine, Pauline, Yanis, Amira"
        ),
        _names(
            "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, "
            "Simon, Laurent, Lefebvre, Michel, Garcia, David, Bertrand, Roux, Benali, Fournier, "
            "Girard, Bonnet, Dupont, Lambert, Fontaine, Rousseau, Vincent, Muller, Lefèvre, Faure, "
            "André, Mercier, Blanc, Guérin, Boyer, Garnier, Chevalier, François, Legrand, "
            "Gauthier, Perrin, Robin, Clément, Morin, Nicolas, Henry, Roussel, Mathieu"
        ),
        (
            ("gmail.com", 35),
            ("orange.fr", 15),
            ("free.fr", 10),
            ("laposte.net", 8),
            ("hotmail.fr", 10),
            ("yahoo.fr", 6),
            ("sfr.fr", 5),
            ("outlook.fr", 4),
        ),
        "{n} {street}",
    ),
    "CA": Country(
        "CA",
        "CAD",
        (
            _c("Toronto", "ON", 43.65, -79.38, "M#@ #@#", "Queen St W", "Danforth Ave"),
            _c("Montréal", "QC", 45.5, -73.57, "H#@ #@#", "Rue Saint-Denis", "Boulevard Saint-Laurent"),
            _c("Vancouver", "BC", 49.28, -123.12, "V#@ #@#", "Commercial Dr", "W Broadway"),
            _c("Calgary", "AB", 51.05, -114.07, "T#@ #@#", "17 Ave SW", "Kensington Rd NW"),
        ),
        _names(
            "Liam, Olivia, Noah, Emma, William, Charlotte, Benjamin, Chloé, Lucas, Maya, Ethan, "
            "Zoe, Arjun, Harpreet, Félix, Élodie, Owen, Abigail, Jacob, Ava, Mason, Sophie, Logan, "
            "Hannah, Nathan, Léa, Alexandre, Gabrielle, Ryan, Jasmine, Simran, Kevin, Mélanie, "
            "Daniel"
        ),
        _names(
            "Smith, Brown, Tremblay, Martin, Roy, Wilson, MacDonald, Gagnon, Johnson, Taylor, "
            "Côté, Campbell, Anderson, Leblanc, Lee, Singh, Gill, Wong, Bouchard, Gauthier, Morin, "
            "Lavoie, Fortin, Gagné, Ouellet, Pelletier, Bélanger, Lévesque, Bergeron, Leclerc, "
            "Thompson, White, Clark, Kaur, Chan, Nguyen, Patel, Fraser"
        ),
        (
            ("gmail.com", 45),
            ("hotmail.com", 12),
            ("outlook.com", 10),
            ("yahoo.ca", 8),
            ("shaw.ca", 5),
            ("rogers.com", 5),
            ("icloud.com", 7),
            ("videotron.ca", 3),
        ),
        "{n} {street}",
    ),
    "AU": Country(
        "AU",
        "AUD",
        (
            _c("Sydney", "NSW", -33.87, 151.21, "2###", "King St", "Oxford St", "Parramatta Rd"),
            _c("Melbourne", "VIC", -37.81, 144.96, "3###", "Brunswick St", "Chapel St"),
            _c("Brisbane", "QLD", -27.47, 153.03, "4###", "Boundary St", "Brunswick St"),
            _c("Perth", "WA", -31.95, 115.86, "6###", "Beaufort St", "Hay St"),
        ),
        _names(
            "Jack, Charlotte, Oliver, Olivia, William, Mia, Noah, Amelia, Thomas, Isla, Lachlan, "
            "Chloe, Cooper, Ruby, Hamish, Matilda, Minh, Mei, Charlie, Ava, Henry, Grace, Lucas, "
            "Sophie, Leo, Zoe, Archie, Isabella, Ethan, Harper, Riley, Georgia, Aarav, Priya"
        ),
        _names(
            "Smith, Jones, Williams, Brown, Wilson, Taylor, Johnson, White, Martin, Anderson, "
            "Thompson, Nguyen, Ryan, Kelly, Harris, Walsh, Chen, O'Brien, Lee, King, Robinson, "
            "Wright, Thomas, Walker, Young, Scott, Mitchell, Campbell, Clarke, Hall, Green, Evans, "
            "Baker, Hughes, Murphy, Stewart, Tran, Patel"
        ),
        (
            ("gmail.com", 40),
            ("bigpond.com", 12),
            ("outlook.com", 10),
            ("hotmail.com", 10),
            ("icloud.com", 8),
            ("optusnet.com.au", 6),
            ("yahoo.com.au", 5),
        ),
        "{n} {street}",
    ),
    "NL": Country(
        "NL",
        "EUR",
        (
            _c("Amsterdam", "Noord-Holland", 52.37, 4.9, "10## @@", "Ferdinand Bolstraat", "Javastraat"),
            _c(
                "Rotterdam", "Zuid-Holland", 51.92, 4.48, "30## @@", "Witte de Withstraat", "Nieuwe Binnenweg"
            ),
            _c("Utrecht", "Utrecht", 52.09, 5.12, "35## @@", "Oudegracht", "Biltstraat"),
        ),
        _names(
            "Daan, Emma, Sem, Julia, Lucas, Mila, Levi, Sophie, Finn, Tess, Milan, Fleur, Bram, "
            "Anouk, Mohamed, Yasmina, Thijs, Lotte, Noah, Sara, Luuk, Eva, Jesse, Sanne, Ruben, "
            "Lisa, Stijn, Iris, Joost, Femke, Koen, Noor, Ahmed, Fatima"
        ),
        _names(
            "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, "
            "Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, El Amrani, Hendriks, Dekker, "
            "van Leeuwen, Brouwer, de Wit, Dijkstra, Smits, de Graaf, van der Meer, Kok, Jacobs, "
            "de Haan, Vermeulen, van den Heuvel, van der Veen, Postma, Willems, Koster, Prins, "
            "Yilmaz, Kaya"
        ),
        (
            ("gmail.com", 40),
            ("ziggo.nl", 12),
            ("kpnmail.nl", 8),
            ("hotmail.com", 12),
            ("outlook.com", 10),
            ("live.nl", 5),
            ("icloud.com", 6),
        ),
        "{street} {n}",
    ),
    "ES": Country(
        "ES",
        "EUR",
        (
            _c(
                "Madrid",
                "Comunidad de Madrid",
                40.42,
                -3.7,
                "280##",
                "Calle de Alcalá",
                "Calle de Fuencarral",
            ),
            _c("Barcelona", "Cataluña", 41.39, 2.17, "080##", "Carrer de Mallorca", "Carrer de Sants"),
            _c(
                "Valencia",
                "Comunitat Valenciana",
                39.47,
                -0.38,
                "460##",
                "Carrer de Colón",
                "Avinguda del Port",
            ),
            _c("Sevilla", "Andalucía", 37.39, -5.98, "410##", "Calle Sierpes", "Avenida de la Constitución"),
        ),
        _names(
            "Hugo, Lucía, Martín, Sofía, Pablo, Martina, Daniel, María, Alejandro, Paula, Álvaro, "
            "Julia, Javier, Carmen, Sergio, Elena, Iker, Nerea, Adrián, Laura, David, Ana, Diego, "
            "Cristina, Marcos, Irene, Jorge, Sara, Raúl, Andrea, Rubén, Claudia, Mario, Natalia"
        ),
        _names(
            "García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, "
            "Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Álvarez, Romero, Navarro, Torres, "
            "Domínguez, Vázquez, Ramos, Gil, Ramírez, Serrano, Blanco, Molina, Morales, Suárez, "
            "Ortega, Delgado, Castro, Ortiz, Rubio, Marín, Sanz, Iglesias, Medina"
        ),
        (
            ("gmail.com", 45),
            ("hotmail.es", 15),
            ("yahoo.es", 8),
            ("outlook.es", 10),
            ("telefonica.net", 5),
            ("icloud.com", 5),
        ),
        "{street} {n}",
    ),
    "IT": Country(
        "IT",
        "EUR",
        (
            _c("Roma", "Lazio", 41.9, 12.5, "001##", "Via del Corso", "Via Appia Nuova"),
            _c("Milano", "Lombardia", 45.46, 9.19, "201##", "Corso Buenos Aires", "Via Torino"),
            _c("Torino", "Piemonte", 45.07, 7.69, "101##", "Via Po", "Corso Vittorio Emanuele II"),
            _c(
                "Bologna", "Emilia-Romagna", 44.49, 11.34, "401##", "Via dell'Indipendenza", "Strada Maggiore"
            ),
            _c("Napoli", "Campania", 40.85, 14.27, "801##", "Via Toledo", "Corso Umberto I"),
        ),
        _names(
            "Leonardo, Sofia, Francesco, Giulia, Alessandro, Aurora, Lorenzo, Alice, Mattia, "
            "Ginevra, Andrea, Emma, Gabriele, Giorgia, Matteo, Chiara, Luca, Martina, Davide, "
            "Sara, Riccardo, Valentina, Tommaso, Francesca, Edoardo, Elisa, Federico, Anna, "
            "Giuseppe, Beatrice, Marco, Ilaria, Simone, Noemi"
        ),
        _names(
            "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, "
            "Bruno, Gallo, Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti, "
            "Barbieri, Fontana, Santoro, Mariani, Rinaldi, Caruso, Ferrara, Galli, Martini, Leone, "
            "Longo, Gentile, Martinelli, Vitale, Serra, Coppola, De Santis, Marchetti"
        ),
        (
            ("gmail.com", 35),
            ("libero.it", 15),
            ("virgilio.it", 8),
            ("hotmail.it", 10),
            ("yahoo.it", 8),
            ("alice.it", 5),
            ("tiscali.it", 4),
            ("outlook.it", 5),
        ),
        "{street} {n}",
    ),
    "BR": Country(
        "BR",
        "BRL",
        (
            _c("São Paulo", "SP", -23.55, -46.63, "01###-###", "Rua Augusta", "Avenida Paulista"),
            _c(
                "Rio de Janeiro", "RJ", -22.91, -43.17, "22###-###", "Rua Visconde de Pirajá", "Rua do Catete"
            ),
            _c("Belo Horizonte", "MG", -19.92, -43.94, "30###-###", "Avenida Afonso Pena", "Rua da Bahia"),
            _c("Curitiba", "PR", -25.43, -49.27, "80###-###", "Rua XV de Novembro", "Avenida Batel"),
        ),
        _names(
            "Miguel, Helena, Arthur, Alice, Heitor, Laura, Bernardo, Manuela, Davi, Valentina, "
            "Gabriel, Sophia, Pedro, Isabella, Lucas, Beatriz, Rafael, Júlia, Enzo, Lorena, "
            "Matheus, Lívia, Gustavo, Yasmin, Felipe, Giovanna, Thiago, Larissa, Leonardo, Camila, "
            "Vinícius, Mariana, Caio, Letícia"
        ),
        _names(
            "Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, "
            "Costa, Ribeiro, Martins, Carvalho, Almeida, Lopes, Sousa, Barbosa, Araújo, Cardoso, "
            "Rocha, Dias, Nascimento, Andrade, Moreira, Nunes, Marques, Machado, Mendes, Freitas, "
            "Cavalcanti, Ramos, Teixeira, Correia, Pinto, Monteiro, Moura, Vieira"
        ),
        (
            ("gmail.com", 50),
            ("hotmail.com", 15),
            ("outlook.com", 10),
            ("yahoo.com.br", 8),
            ("uol.com.br", 5),
            ("bol.com.br", 4),
            ("icloud.com", 4),
        ),
        "{street}, {n}",
    ),
}
# where partners and customers come from, and how often
# People whose names are written beyond Latin script (given names, family names), living in any of
# the countries above: written for this evaluation; the Chinese names family name first, unspaced.
NAMES_BEYOND_LATIN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cyrillic": (
        _names("Иван, Мария, Алексей, Ольга, Дмитрий, Анна, Сергей, Елена, Николай, Татьяна, Павел, Ирина"),
        _names("Петров, Смирнов, Кузнецов, Попов, Соколов, Лебедев, Козлов, Новиков, Морозов, Волков"),
    ),
    "chinese": (
        _names("伟, 芳, 娜, 敏, 静, 磊, 洋, 艳, 勇, 军, 杰, 娟"),
        _names("王, 李, 张, 刘, 陈, 杨, 黄, 赵, 吴, 周"),
    ),
    "arabic": (
        _names("محمد, أحمد, فاطمة, علي, مريم, يوسف, خديجة, عمر, ليلى, حسن"),
        _names("حسن, إبراهيم, عبدالله, سالم, الخطيب, النجار, الحداد, منصور"),
    ),
}

COUNTRY_WEIGHTS = {
    "US": 30,
    "GB": 14,
    "DE": 11,
    "FR": 9,
    "CA": 8,
    "AU": 6,
    "NL": 5,
    "ES": 6,
    "IT": 5,
    "BR": 6,
}

# privacy relays ordinary people use: forwarding addresses, not throwaway inboxes
PRIVACY_RELAYS = ("privaterelay.appleid.com", "duck.com", "mozmail.com", "simplelogin.com")
# throwaway inboxes fraudsters use; each is checked against the maintained list at generation
DISPOSABLE = (
    "mailinator.com",
    "guerrillamail.com",
    "yopmail.com",
    "10minutemail.com",
    "sharklasers.com",
    "temp-mail.org",
    "getnada.com",
    "maildrop.cc",
    "trashmail.com",
    "dispostable.com",
    "mohmal.com",
    "emailondeck.com",
    "throwawaymail.com",
    "tempr.email",
    "moakt.com",
    "mailnesia.com",
)
# small businesses' own domains: words + TLDs (a few on the cheap new TLDs legit firms use too)
BUSINESS_WORDS = (
    "bright",
    "harbor",
    "north",
    "maple",
    "pixel",
    "summit",
    "lumen",
    "cedar",
    "orbit",
    "atlas",
    "copper",
    "meadow",
    "signal",
    "vista",
    "nimbus",
    "ember",
    "fjord",
    "sable",
    "quartz",
    "willow",
    "kiwi",
    "delta",
    "marlin",
    "aurora",
    "tandem",
    "beacon",
    "compass",
    "juniper",
    "saffron",
    "tidal",
)
BUSINESS_SUFFIXES = ("media", "digital", "labs", "studio", "deals", "reviews", "works", "hq", "co", "group")
BUSINESS_TLDS = (
    (".com", 50),
    (".io", 8),
    (".co", 6),
    (".net", 6),
    (".agency", 3),
    (".media", 3),
    (".shop", 3),
    (".online", 3),
    (".xyz", 2),
    (".co.uk", 6),
    (".de", 5),
    (".fr", 3),
    (".com.au", 2),
)
ROLE_LOCALS = ("info", "hello", "contact", "partners", "team", "affiliates", "marketing")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)


def weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...] | dict[str, int]) -> str:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def postal_code(rng: random.Random, pattern: str) -> str:
    """`#` becomes a digit, `@` a capital letter."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return "".join(
        str(rng.randint(0, 9)) if ch == "#" else rng.choice(letters) if ch == "@" else ch for ch in pattern
    )


# --- IP addresses ----------------------------------------------------------------------------
RESIDENTIAL = "residential"
NAT_POOL, NAT_POOL_US = 60, 150  # shared carrier addresses per country met in the traffic


@dataclass
class IpPools:
    """Addresses by (country, kind), sampled and checked against the embedded network data.
    `take` hands each address out once, so unrelated people never share one by accident."""

    rng: random.Random
    reference: ReferenceData = field(default_factory=EmbeddedReferenceData)
    blocks: dict[str, list[int]] = field(default_factory=dict)  # country -> /16 prefixes seen there
    used: set[str] = field(default_factory=set)
    hosting: list[str] = field(default_factory=list)
    tor: list[str] = field(default_factory=list)
    relay: dict[str, list[str]] = field(default_factory=dict)  # Apple Private Relay exits by country
    nat: dict[str, list[str]] = field(default_factory=dict)  # carrier NAT addresses by country

    def __post_init__(self) -> None:
        self._survey()

    def _kind(self, address: str) -> tuple[str | None, str]:
        facts = self.reference.ip(address)
        if facts.listed:
            return facts.country, "listed"
        kind = facts.network_kind
        return facts.country, RESIDENTIAL if kind == "unknown" else kind

    def _survey(self) -> None:
        """Which /16 blocks belong to which country; hosting addresses met on the way."""
        for _ in range(6000):
            first = self.rng.choice([n for n in range(1, 224) if n not in (10, 100, 127, 169, 172, 192, 198)])
            prefix = first * 256 + self.rng.randint(0, 255)
            address = _dotted(prefix, self.rng.randint(0, 255), self.rng.randint(1, 254))
            country, kind = self._kind(address)
            if country is None:
                continue
            if kind == RESIDENTIAL:
                self.blocks.setdefault(country, []).append(prefix)
            elif kind == "hosting":
                self.hosting.append(address)
        for _ in range(300):  # Tor exits cluster in a few well-known ranges
            address = _dotted(185 * 256 + 220, self.rng.choice((100, 101)), self.rng.randint(1, 254))
            if self._kind(address)[1] == "tor":
                self.tor.append(address)
        for _ in range(1500):
            prefix = self.rng.choice(((172, 225), (146, 75), (104, 28)))
            address = _dotted(prefix[0] * 256 + prefix[1], self.rng.randint(0, 255), self.rng.randint(1, 254))
            country, kind = self._kind(address)
            if kind == "vpn" and country:
                self.relay.setdefault(country, []).append(address)
        self.hosting = sorted(set(self.hosting))
        self.tor = sorted(set(self.tor))

    def residential(self, country: str) -> str:
        blocks = self.blocks[country]
        for _ in range(200):
            prefix = self.rng.choice(blocks)
            address = _dotted(prefix, self.rng.randint(0, 255), self.rng.randint(1, 254))
            if address not in self.used and self._kind(address) == (country, RESIDENTIAL):
                self.used.add(address)
                return address
        raise RuntimeError(f"no residential address found in {country}")

    def line(self) -> str:
        """An IPv6 subscriber line: the first four groups of a /64 in 2a00::/12 (RIPE's), unused."""
        while True:
            groups = [f"2a0{self.rng.randint(0, 9)}", *(f"{self.rng.getrandbits(16):x}" for _ in range(3))]
            line = ":".join(groups)
            if line not in self.used:
                self.used.add(line)
                return line

    def on_line(self, line: str) -> str:
        """A new address on an IPv6 line (an interface identifier drawn at random)."""
        return line + "".join(f":{self.rng.getrandbits(16) | 1:x}" for _ in range(4))

    def take(self, pool: list[str]) -> str:
        free = [a for a in pool if a not in self.used]
        address = self.rng.choice(free or pool)
        self.used.add(address)
        return address

    def carrier_nat(self, country: str) -> str:
        """A mobile carrier's shared address (carrier-grade NAT): many subscribers at once."""
        pool = self.nat.setdefault(country, [])
        if len(pool) < (NAT_POOL_US if country == "US" else NAT_POOL):
            pool.append(self.residential(country))
        return self.rng.choice(pool)

    def private_relay(self, country: str) -> str | None:
        exits = self.relay.get(country)
        return self.take(exits) if exits else None


def _dotted(prefix16: int, third: int, fourth: int) -> str:
    return f"{prefix16 // 256}.{prefix16 % 256}.{third}.{fourth}"
