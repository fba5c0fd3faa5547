module parascope

go 1.26
