"""`imr fetch`: the letters, and DWC's own index of them, from DWC's IMR Decision Search.

* ``pages``    the HTML page reader: the search form and a page of treatment results, checked
               against the documented structure (``LayoutError`` names what differs);
* ``client``   the polite HTTP client: one request at a time, spaced, retried with backoff;
* ``site``     the search itself: its address, the form it sends, where letters are;
* ``walker``   decision-date windows, halved while too large, read page by page and checked;
* ``store``    the fetch state beside the warehouse (runs, windows, cases, downloads);
* ``download`` one letter, atomically, verified to be a PDF;
* ``taxonomy`` DWC's texts in our vocabulary where they match (``dwc_names.csv``);
* ``run``      the orchestration, the summary, publishing ``dwc_index`` and ``--ingest``.
"""
