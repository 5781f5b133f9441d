"""DB-API 2: every statement through a wrapped connection is a client span.

Run it:  python examples/integrations_dbapi.py

dbapi.wrap(connection) works with any PEP 249 driver (sqlite3 here, psycopg, mysqlclient,
...). Each execute/executemany/callproc inside a span becomes a child span named after the
statement's first keyword, tagged db.type, db.instance and db.statement (the SQL text, cut
at 1024 characters; parameters are never recorded). A failing statement is an error.
"""

import os
import sqlite3

import jaeger_lite
from jaeger_lite.integrations import dbapi


def main() -> None:
    tracer = jaeger_lite.init_tracer("inventory", sampler_type="const")
    db = dbapi.wrap(sqlite3.connect(":memory:"), db_instance="inventory")

    with tracer.start_active_span("restock"):
        db.execute("CREATE TABLE stock (item TEXT PRIMARY KEY, count INTEGER)")
        db.executemany("INSERT INTO stock VALUES (?, ?)", [("book", 3), ("pen", 40)])
        cursor = db.cursor()
        cursor.execute("UPDATE stock SET count = count + ? WHERE item = ?", (10, "book"))
        print("stock:", cursor.execute("SELECT item, count FROM stock ORDER BY item").fetchall())
        try:
            db.execute("SELECT * FROM suppliers")
        except sqlite3.OperationalError as error:
            print("error:", error)  # recorded on its span, raised as usual
    db.close()
    tracer.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(6, timeout=5)
    print(agent.summary())
