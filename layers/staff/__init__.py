"""The staff side of the domain: accounts and areas, keeping stations and compounds true, the ledger."""
