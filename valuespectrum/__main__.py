from valuespectrum.cli import main

main()
