from sitegen.launch import program

program()
